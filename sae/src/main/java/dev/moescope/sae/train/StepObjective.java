package dev.moescope.sae.train;

import dev.moescope.sae.dictionary.DecoderNormPenalty;

/**
 * What one sparse BatchTopK step optimises. The SAE is the plain case ({@link #sae}); a crosscoder over S sources
 * is the same step on rows that concatenate the sources' activations ({@code x = [x^1 | … | x^S]}, decoder rows
 * {@code [d^1 | … | d^S]}): {@code Σ_s ‖x^s − x̂^s‖² = ‖x − x̂‖²} and the AuxK numerator and variance sum the same
 * way, so only four things differ, and they are the fields here.
 *
 * @param k              mean active latents per token (k·B winners per batch)
 * @param auxkAlpha      AuxK weight (0: off)
 * @param kAux           AuxK latents per token (already resolved, positive)
 * @param centredEncoder encode {@code x − b_dec} (SAE, dictionary_learning) or {@code x} (the crosscoder reference)
 * @param rankScale      per-latent selection weight (the crosscoder's decoder-norm weighting), or {@code null};
 *                       the kept activation is always unscaled
 * @param penalty        decoder-norm-weighted L1 term on top of BatchTopK, or {@code null}
 */
public record StepObjective(int k, double auxkAlpha, int kAux, boolean centredEncoder, float[] rankScale,
                            DecoderNormPenalty penalty) {

    /** The BatchTopK SAE's objective for inputs of width {@code width}. */
    public static StepObjective sae(SaeConfig config, int width) {
        return new StepObjective(config.k(), config.auxkAlpha(), config.effectiveKAux(width), true, null, null);
    }
}
