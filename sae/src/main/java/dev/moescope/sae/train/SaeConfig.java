package dev.moescope.sae.train;

import dev.moescope.core.error.Require;
import dev.moescope.sae.dictionary.LearningRateSchedule;

/**
 * Every option of a BatchTopK SAE run. Defaults follow dictionary_learning's BatchTopK trainer (see
 * {@code shared/specs/dictionaries.md} §2.3) unless stated.
 *
 * @param latents         dictionary size F
 * @param k               mean active latents per token (batch top-k keeps k·B)
 * @param batchSize       tokens per step B
 * @param steps           total optimisation steps
 * @param lr              peak learning rate; ≤ 0 picks {@code 2e-4/√(F/2^14)}
 * @param warmupSteps     linear warm-up steps (1000)
 * @param decayStart      step where linear decay to 0 starts, -1 for none
 * @param beta1           Adam β1 (0.9)
 * @param beta2           Adam β2 (0.999)
 * @param epsilon         Adam ε (1e-8)
 * @param gradClip        global gradient-norm clip (1.0), 0 for none
 * @param auxkAlpha       AuxK weight (1/32), 0 turns AuxK off
 * @param kAux            AuxK latents per token; ≤ 0 picks d/2
 * @param deadTokens      tokens without firing after which a latent is dead (10M)
 * @param thresholdBeta   EMA β of the inference threshold (0.999)
 * @param thresholdStart  step after which the threshold is tracked (1000)
 * @param normalize       scale inputs so E‖x‖² = d (true)
 * @param normBatches     batches used to estimate the scale (10)
 * @param biasInit        decoder-bias initialisation
 * @param kernel          gradient kernel
 * @param checkpointEvery steps between checkpoints (0: only at the end)
 * @param skipBadRows     drop rows with NaN/Inf instead of stopping
 */
public record SaeConfig(int latents, int k, int batchSize, long steps, double lr, long warmupSteps, long decayStart,
                        double beta1, double beta2, double epsilon, double gradClip, double auxkAlpha, int kAux,
                        long deadTokens, double thresholdBeta, long thresholdStart, boolean normalize,
                        int normBatches, BiasInit biasInit, Kernel kernel, long checkpointEvery,
                        boolean skipBadRows) {

    /** How the decoder bias starts. */
    public enum BiasInit { MEDIAN, MEAN, ZERO }

    /** Which gradient implementation runs. */
    public enum Kernel { SPARSE, DENSE }

    public SaeConfig {
        Require.positive("latents", latents);
        Require.positive("k", k);
        Require.that(k < latents, "k", "below --latents " + latents, k);
        Require.positive("batch", batchSize);
        Require.positive("steps", steps);
        Require.that((long) k * batchSize < Integer.MAX_VALUE, "k * batch", "below 2^31", (long) k * batchSize);
        Require.that((long) latents * batchSize < Integer.MAX_VALUE, "latents * batch", "below 2^31",
                (long) latents * batchSize);
        Require.that(warmupSteps >= 0, "warmup", "non-negative", warmupSteps);
        Require.inHalfOpen("beta1", beta1, 0, 1);
        Require.inHalfOpen("beta2", beta2, 0, 1);
        Require.positive("epsilon", epsilon);
        Require.nonNegative("grad-clip", gradClip);
        Require.nonNegative("auxk-alpha", auxkAlpha);
        Require.positive("dead-tokens", deadTokens);
        Require.inHalfOpen("threshold-beta", thresholdBeta, 0, 1);
        Require.that(thresholdStart >= 0, "threshold-start", "non-negative", thresholdStart);
        Require.positive("norm-batches", normBatches);
        Require.notNull("bias-init", biasInit);
        Require.notNull("kernel", kernel);
        Require.that(checkpointEvery >= 0, "checkpoint-every", "non-negative", checkpointEvery);
        Require.that(decayStart < 0 || decayStart < steps, "decay-start", "below --steps " + steps, decayStart);
    }

    /** A config with the reference defaults for everything but the shape of the run. */
    public static SaeConfig defaults(int latents, int k, int batchSize, long steps) {
        return new SaeConfig(latents, k, batchSize, steps, 0, 1000, -1, 0.9, 0.999, 1e-8, 1.0, 1.0 / 32, 0,
                10_000_000L, 0.999, 1000, true, 10, BiasInit.MEDIAN, Kernel.SPARSE, 0, false);
    }

    public SaeConfig withLr(double v) {
        return new SaeConfig(latents, k, batchSize, steps, v, warmupSteps, decayStart, beta1, beta2, epsilon, gradClip,
                auxkAlpha, kAux, deadTokens, thresholdBeta, thresholdStart, normalize, normBatches, biasInit, kernel,
                checkpointEvery, skipBadRows);
    }

    public SaeConfig withSchedule(long warmup, long threshStart) {
        return new SaeConfig(latents, k, batchSize, steps, lr, warmup, decayStart, beta1, beta2, epsilon, gradClip,
                auxkAlpha, kAux, deadTokens, thresholdBeta, threshStart, normalize, normBatches, biasInit, kernel,
                checkpointEvery, skipBadRows);
    }

    public SaeConfig withSteps(long v) {
        return new SaeConfig(latents, k, batchSize, v, lr, warmupSteps, decayStart, beta1, beta2, epsilon, gradClip,
                auxkAlpha, kAux, deadTokens, thresholdBeta, thresholdStart, normalize, normBatches, biasInit, kernel,
                checkpointEvery, skipBadRows);
    }

    public SaeConfig withKernel(Kernel v) {
        return new SaeConfig(latents, k, batchSize, steps, lr, warmupSteps, decayStart, beta1, beta2, epsilon, gradClip,
                auxkAlpha, kAux, deadTokens, thresholdBeta, thresholdStart, normalize, normBatches, biasInit, v,
                checkpointEvery, skipBadRows);
    }

    public SaeConfig withDeadTokens(long v, double alpha) {
        return new SaeConfig(latents, k, batchSize, steps, lr, warmupSteps, decayStart, beta1, beta2, epsilon, gradClip,
                alpha, kAux, v, thresholdBeta, thresholdStart, normalize, normBatches, biasInit, kernel,
                checkpointEvery, skipBadRows);
    }

    public SaeConfig withCheckpointEvery(long v) {
        return new SaeConfig(latents, k, batchSize, steps, lr, warmupSteps, decayStart, beta1, beta2, epsilon, gradClip,
                auxkAlpha, kAux, deadTokens, thresholdBeta, thresholdStart, normalize, normBatches, biasInit, kernel,
                v, skipBadRows);
    }

    /** The peak learning rate actually used. */
    public double effectiveLr() {
        return lr > 0 ? lr : LearningRateSchedule.defaultBase(latents);
    }

    /** AuxK latents per token for width {@code d}. */
    public int effectiveKAux(int width) {
        return kAux > 0 ? kAux : Math.max(1, width / 2);
    }

    public LearningRateSchedule schedule() {
        return new LearningRateSchedule(effectiveLr(), warmupSteps, decayStart, steps);
    }
}
