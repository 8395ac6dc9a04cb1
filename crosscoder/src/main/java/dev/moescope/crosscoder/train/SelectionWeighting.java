package dev.moescope.crosscoder.train;

/**
 * How latent j's decoder norms weight its pre-activation in the BatchTopK ranking ({@code dictionaries.md} §1.4,
 * "code normalization"). The kept value is always the unweighted pre-activation.
 */
public enum SelectionWeighting {
    /** {@code Σ_s ‖d_j^s‖} (Minder's default; the L1-of-norms that favours source-exclusive latents). */
    CROSSCODER,
    /** {@code ‖[d_j^1; …; d_j^S]‖}, the norm of the concatenated decoder (an SAE on stacked activations). */
    SAE,
    /** {@code 0.7·‖[d_j^1; …]‖ + 0.3·Σ_s ‖d_j^s‖} (the paper code's MIXED, α_sae 0.7, α_cc 0.3). */
    MIXED,
    /** No weighting: rank by the pre-activation alone. */
    NONE;

    /** The weight of one latent from its per-source decoder norms. */
    public float weight(double[] norms) {
        double sum = 0;
        double sq = 0;
        for (double n : norms) {
            sum += n;
            sq += n * n;
        }
        return (float) switch (this) {
            case CROSSCODER -> sum;
            case SAE -> Math.sqrt(sq);
            case MIXED -> 0.7 * Math.sqrt(sq) + 0.3 * sum;
            case NONE -> 1.0;
        };
    }
}
