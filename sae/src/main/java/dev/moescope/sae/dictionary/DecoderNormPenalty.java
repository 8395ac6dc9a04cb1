package dev.moescope.sae.dictionary;

/**
 * The decoder-norm-weighted L1 term that the crosscoder paper's code adds on top of BatchTopK
 * ({@code dictionaries.md} §1.4, "shared-feature extras"):
 * <pre>
 *   P = mean_b Σ_i f_bi · w_i,   w_i = λ_f · Σ_s ‖d_i^s‖   (standard latents, i ≥ N)
 *                                w_i = λ_s · ‖d̄_i‖        (designated shared latents, i &lt; N; d̄_i = mean_s d_i^s)
 * </pre>
 * over decoder rows split into {@code segments} (one per source, concatenated in each row). Norms carry a tiny
 * ε under the root so a row that reached exactly zero keeps a finite gradient. The gradient of P is cheap and
 * sparse: {@code ∂P/∂f_bi = w_i / B} for selected entries, and {@code ∂P/∂d_i = c_i · ∂w_i/∂d_i} with
 * {@code c_i = mean_b f_bi}, one row per latent that fired.
 */
public final class DecoderNormPenalty {

    private static final double EPS = 1e-12;

    private final int[] offsets;
    private final int shared;
    private final double standard;
    private final double sharedWeight;

    /**
     * @param segments     width of each source's part of a decoder row (they sum to the row width)
     * @param shared       designated shared latents N (their segments are tied, so equal widths)
     * @param standard     λ_f
     * @param sharedWeight λ_s
     */
    public DecoderNormPenalty(int[] segments, int shared, double standard, double sharedWeight) {
        this.offsets = new int[segments.length + 1];
        for (int s = 0; s < segments.length; s++) {
            offsets[s + 1] = offsets[s] + segments[s];
        }
        this.shared = shared;
        this.standard = standard;
        this.sharedWeight = sharedWeight;
    }

    /** Whether the term contributes anything. */
    public boolean active() {
        return standard > 0 || (shared > 0 && sharedWeight > 0);
    }

    private int sources() {
        return offsets.length - 1;
    }

    /** The per-latent weights {@code w_i} of the current decoder rows ({@code latents x rowWidth}). */
    public float[] weights(float[] dec, int latents, Parallel par) {
        int width = offsets[sources()];
        float[] w = new float[latents];
        par.forRange(latents, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                int o = i * width;
                if (i < shared) {
                    w[i] = (float) (sharedWeight * Math.sqrt(meanSquare(dec, o) + EPS));
                } else {
                    double sum = 0;
                    for (int s = 0; s < sources(); s++) {
                        double q = 0;
                        for (int j = o + offsets[s]; j < o + offsets[s + 1]; j++) {
                            q += (double) dec[j] * dec[j];
                        }
                        sum += Math.sqrt(q + EPS);
                    }
                    w[i] = (float) (standard * sum);
                }
            }
        });
        return w;
    }

    /** ‖d̄_i‖² where d̄_i is the mean of the row's segments (row starting at {@code o}). */
    private double meanSquare(float[] dec, int o) {
        int seg = offsets[1];
        double q = 0;
        for (int j = 0; j < seg; j++) {
            double m = 0;
            for (int s = 0; s < sources(); s++) {
                m += dec[o + offsets[s] + j];
            }
            m /= sources();
            q += m * m;
        }
        return q;
    }

    /** Adds {@code c · ∂w_i/∂d_i} to latent {@code i}'s decoder-gradient row ({@code c} = mean_b f_bi). */
    public void addGradient(float[] dec, int i, double c, float[] grad) {
        if (c == 0) {
            return;
        }
        int width = offsets[sources()];
        int o = i * width;
        if (i < shared) {
            if (sharedWeight == 0) {
                return;
            }
            int seg = offsets[1];
            double n = Math.sqrt(meanSquare(dec, o) + EPS);
            double f = sharedWeight * c / (n * sources() * sources()); // ∂‖d̄‖/∂d^s = d̄/(S‖d̄‖)
            for (int j = 0; j < seg; j++) {
                double m = 0; // S·d̄_j
                for (int s = 0; s < sources(); s++) {
                    m += dec[o + offsets[s] + j];
                }
                float v = (float) (f * m);
                for (int s = 0; s < sources(); s++) {
                    grad[o + offsets[s] + j] += v;
                }
            }
        } else {
            if (standard == 0) {
                return;
            }
            for (int s = 0; s < sources(); s++) {
                double q = 0;
                for (int j = o + offsets[s]; j < o + offsets[s + 1]; j++) {
                    q += (double) dec[j] * dec[j];
                }
                float f = (float) (standard * c / Math.sqrt(q + EPS));
                for (int j = o + offsets[s]; j < o + offsets[s + 1]; j++) {
                    grad[j] += f * dec[j];
                }
            }
        }
    }
}
