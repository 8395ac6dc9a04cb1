package dev.moescope.crosscoder.train;

import dev.moescope.core.error.Require;

/**
 * Every crosscoder training option, validated. Defaults follow the BatchTopK crosscoder of the paper's code
 * ({@code MarmikChaudhari/crosscoders}): decoder-norm-weighted selection summed over sources, AuxK weight 1/32,
 * threshold EMA 0.999 from step 1000, Adam (0.9, 0.999); see {@code dictionaries.md} §1.4.
 *
 * @param latents        dictionary size F
 * @param k              mean active latents per token (k·B winners per batch)
 * @param shared         designated shared latents: the first N latents, one decoder tied across sources
 * @param batchSize      rows per step
 * @param steps          optimizer steps
 * @param lr             Adam learning rate
 * @param warmupSteps    linear LR warm-up
 * @param auxkAlpha      AuxK weight (0 disables AuxK)
 * @param kAux           AuxK latents per token, or 0 for min(d/2) of the narrowest source
 * @param sparsityPenalty       λ_f of the decoder-norm-weighted L1 term {@code λ_f·mean_b Σ_{i≥N} f_i Σ_s‖d_i^s‖}
 *                              that the paper code adds on top of BatchTopK; default 1/32 as there (its gradient is
 *                              as sparse as the step's, so it costs next to nothing); 0 turns it off
 * @param sharedSparsityPenalty λ_s of the designated shared latents' term {@code λ_s·mean_b Σ_{i<N} f_i ‖d̄_i‖}
 *                              (the paper code's 0.15·λ_f, the "reduced penalty")
 * @param deadTokens     a latent not fired for this many tokens is dead
 * @param thresholdBeta  EMA factor of the inference threshold θ
 * @param thresholdStart first step at which θ is updated
 * @param normBatches    batches used to estimate each source's input scale (0: no normalisation)
 * @param selection      how decoder norms weight the selection ranking
 * @param seed           initialisation seed
 * @param gradClip       global gradient-norm clip (the paper code's 1.0), 0 for none
 * @param kernel         gradient kernel: the sparse step (default) or the dense DJL-autograd reference
 */
public record CrosscoderConfig(int latents, int k, int shared, int batchSize, long steps, double lr, long warmupSteps,
                               double auxkAlpha, int kAux, double sparsityPenalty,
                               double sharedSparsityPenalty, long deadTokens, double thresholdBeta, long thresholdStart,
                               int normBatches, SelectionWeighting selection, long seed, double gradClip,
                               Kernel kernel) {

    /** Which gradient implementation runs. */
    public enum Kernel { SPARSE, DENSE }

    public CrosscoderConfig {
        Require.positive("latents", latents);
        Require.positive("k", k);
        Require.that(k < latents, "k", "below --latents " + latents, k);
        Require.that(shared >= 0, "shared", "non-negative", shared);
        Require.that(shared <= latents, "shared", "at most --latents " + latents, shared);
        Require.positive("batch", batchSize);
        Require.positive("steps", steps);
        Require.that((long) latents * batchSize < Integer.MAX_VALUE, "latents * batch", "below 2^31",
                (long) latents * batchSize);
        Require.positive("lr", lr);
        Require.that(warmupSteps >= 0, "warmup", "non-negative", warmupSteps);
        Require.nonNegative("auxk-alpha", auxkAlpha);
        Require.that(kAux >= 0, "k-aux", "non-negative", kAux);
        Require.nonNegative("sparsity-penalty", sparsityPenalty);
        Require.nonNegative("shared-sparsity-penalty", sharedSparsityPenalty);
        Require.positive("dead-tokens", deadTokens);
        Require.inHalfOpen("threshold-beta", thresholdBeta, 0, 1);
        Require.that(thresholdStart >= 0, "threshold-start", "non-negative", thresholdStart);
        Require.that(normBatches >= 0, "norm-batches", "non-negative", normBatches);
        Require.notNull("selection", selection);
        Require.nonNegative("grad-clip", gradClip);
        Require.notNull("kernel", kernel);
    }

    /** The paper-code defaults for the given shape. */
    public static CrosscoderConfig defaults(int latents, int k, int shared, int batchSize, long steps, long seed) {
        return new CrosscoderConfig(latents, k, shared, batchSize, steps, 1e-3, Math.min(1000, steps / 10),
                1.0 / 32, 0, 1.0 / 32, 0.15 / 32, 10_000_000L, 0.999, Math.min(1000, steps / 2), 4,
                SelectionWeighting.CROSSCODER, seed, 1.0, Kernel.SPARSE);
    }

    public CrosscoderConfig withLr(double v) {
        return new CrosscoderConfig(latents, k, shared, batchSize, steps, v, warmupSteps, auxkAlpha, kAux,
                sparsityPenalty, sharedSparsityPenalty, deadTokens,
                thresholdBeta, thresholdStart, normBatches, selection, seed, gradClip, kernel);
    }

    public CrosscoderConfig withDeadTokens(long v) {
        return new CrosscoderConfig(latents, k, shared, batchSize, steps, lr, warmupSteps, auxkAlpha, kAux,
                sparsityPenalty, sharedSparsityPenalty, v,
                thresholdBeta, thresholdStart, normBatches, selection, seed, gradClip, kernel);
    }

    public CrosscoderConfig withSelection(SelectionWeighting v) {
        return new CrosscoderConfig(latents, k, shared, batchSize, steps, lr, warmupSteps, auxkAlpha, kAux,
                sparsityPenalty, sharedSparsityPenalty, deadTokens,
                thresholdBeta, thresholdStart, normBatches, v, seed, gradClip, kernel);
    }

    public CrosscoderConfig withSparsityPenalties(double standard, double sharedLatents) {
        return new CrosscoderConfig(latents, k, shared, batchSize, steps, lr, warmupSteps, auxkAlpha, kAux, standard,
                sharedLatents, deadTokens, thresholdBeta, thresholdStart, normBatches, selection, seed, gradClip, kernel);
    }

    public CrosscoderConfig withGradClip(double v) {
        return new CrosscoderConfig(latents, k, shared, batchSize, steps, lr, warmupSteps, auxkAlpha, kAux,
                sparsityPenalty, sharedSparsityPenalty, deadTokens, thresholdBeta, thresholdStart, normBatches,
                selection, seed, v, kernel);
    }

    public CrosscoderConfig withKernel(Kernel v) {
        return new CrosscoderConfig(latents, k, shared, batchSize, steps, lr, warmupSteps, auxkAlpha, kAux,
                sparsityPenalty, sharedSparsityPenalty, deadTokens, thresholdBeta, thresholdStart, normBatches,
                selection, seed, gradClip, v);
    }

    public CrosscoderConfig withSteps(long v) {
        return new CrosscoderConfig(latents, k, shared, batchSize, v, lr, warmupSteps, auxkAlpha, kAux,
                sparsityPenalty, sharedSparsityPenalty, deadTokens, thresholdBeta, thresholdStart, normBatches,
                selection, seed, gradClip, kernel);
    }

    public CrosscoderConfig withThreshold(double beta, long start) {
        return new CrosscoderConfig(latents, k, shared, batchSize, steps, lr, warmupSteps, auxkAlpha, kAux,
                sparsityPenalty, sharedSparsityPenalty, deadTokens, beta, start, normBatches,
                selection, seed, gradClip, kernel);
    }

    /** AuxK latents per token for sources of the given widths. */
    public int effectiveKAux(int[] widths) {
        if (kAux > 0) {
            return kAux;
        }
        int min = Integer.MAX_VALUE;
        for (int w : widths) {
            min = Math.min(min, w);
        }
        return Math.max(1, min / 2);
    }
}
