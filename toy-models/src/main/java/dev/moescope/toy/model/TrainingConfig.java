package dev.moescope.toy.model;

import dev.moescope.core.error.Require;

/**
 * How every instance of a run is trained: AdamW (PyTorch semantics: decoupled weight decay on every parameter,
 * bias-corrected moments, betas 0.9/0.999, eps 1e-8) at a constant learning rate on fresh synthetic batches.
 *
 * @param batch            samples per step (the papers use 1024; the MoE phase grid 512)
 * @param steps            optimisation steps (10,000; the MoE phase grid 5000)
 * @param learningRate     AdamW learning rate (1e-3)
 * @param weightDecay      AdamW decoupled weight decay (PyTorch's default 0.01)
 * @param reduction        how the loss is reduced over features
 * @param biasInit         zero (Anthropic) or Xavier normal (MoE paper)
 * @param loadBalancing    α of the Switch-style load-balancing loss {@code α·E·Σ f_e P_e}; 0 turns it off
 * @param earlyStop        optional per-instance early stopping (Fig 5 protocol); null for none
 * @param evalSamples      held-out samples drawn after training for the final loss (best-of-seeds criterion)
 * @param lossLogInterval  record each instance's training loss every this many steps (loss curves)
 * @param routerGradient   exact top-1 router gradient (zero) or PyTorch's float32 residue
 */
public record TrainingConfig(int batch, int steps, double learningRate, double weightDecay, LossReduction reduction,
                             BiasInit biasInit, double loadBalancing, EarlyStop earlyStop, int evalSamples,
                             int lossLogInterval, RouterGradient routerGradient) {

    public static final double BETA1 = 0.9;
    public static final double BETA2 = 0.999;
    public static final double EPS = 1e-8;

    public TrainingConfig {
        Require.positive("batch", batch);
        Require.positive("steps", steps);
        Require.positive("learning rate", learningRate);
        Require.nonNegative("weight decay", weightDecay);
        Require.notNull("loss reduction", reduction);
        Require.notNull("bias init", biasInit);
        Require.nonNegative("load-balancing alpha", loadBalancing);
        Require.positive("eval samples", evalSamples);
        Require.positive("loss log interval", lossLogInterval);
        Require.notNull("router gradient", routerGradient);
    }

    /** With the exact router gradient. */
    public TrainingConfig(int batch, int steps, double learningRate, double weightDecay, LossReduction reduction,
                          BiasInit biasInit, double loadBalancing, EarlyStop earlyStop, int evalSamples,
                          int lossLogInterval) {
        this(batch, steps, learningRate, weightDecay, reduction, biasInit, loadBalancing, earlyStop, evalSamples,
                lossLogInterval, RouterGradient.EXACT);
    }

    /** The MoE paper's defaults: batch 1024, 10k steps, AdamW 1e-3 / wd 0.01, mean-over-features, Xavier bias, LB off. */
    public static TrainingConfig paperDefaults() {
        return new TrainingConfig(1024, 10_000, 1e-3, 0.01, LossReduction.MEAN_FEATURES, BiasInit.XAVIER, 0.0, null,
                4096, 100);
    }

    public TrainingConfig withSteps(int s) {
        return new TrainingConfig(batch, s, learningRate, weightDecay, reduction, biasInit, loadBalancing, earlyStop,
                evalSamples, Math.max(1, Math.min(lossLogInterval, s)), routerGradient);
    }

    public TrainingConfig withBatch(int b) {
        return new TrainingConfig(b, steps, learningRate, weightDecay, reduction, biasInit, loadBalancing, earlyStop,
                evalSamples, lossLogInterval, routerGradient);
    }

    public TrainingConfig withLoadBalancing(double alpha) {
        return new TrainingConfig(batch, steps, learningRate, weightDecay, reduction, biasInit, alpha, earlyStop,
                evalSamples, lossLogInterval, routerGradient);
    }

    public TrainingConfig withReduction(LossReduction r) {
        return new TrainingConfig(batch, steps, learningRate, weightDecay, r, biasInit, loadBalancing, earlyStop,
                evalSamples, lossLogInterval, routerGradient);
    }

    public TrainingConfig withBiasInit(BiasInit b) {
        return new TrainingConfig(batch, steps, learningRate, weightDecay, reduction, b, loadBalancing, earlyStop,
                evalSamples, lossLogInterval, routerGradient);
    }

    public TrainingConfig withWeightDecay(double wd) {
        return new TrainingConfig(batch, steps, learningRate, wd, reduction, biasInit, loadBalancing, earlyStop,
                evalSamples, lossLogInterval, routerGradient);
    }

    public TrainingConfig withRouterGradient(RouterGradient g) {
        return new TrainingConfig(batch, steps, learningRate, weightDecay, reduction, biasInit, loadBalancing, earlyStop,
                evalSamples, lossLogInterval, g);
    }

    public TrainingConfig withEarlyStop(EarlyStop e) {
        return new TrainingConfig(batch, steps, learningRate, weightDecay, reduction, biasInit, loadBalancing, e,
                evalSamples, lossLogInterval, routerGradient);
    }

    /**
     * The MoE paper's Fig 5 schedule ({@code other_optimize}): every step first applies its update at the current
     * rate; then a training loss below {@code decayBelow} multiplies that instance's learning rate by
     * {@code decayFactor} for the following steps (compounding), and a loss below {@code stopBelow} ends training.
     */
    public record EarlyStop(double stopBelow, double decayBelow, double decayFactor) {
        public EarlyStop {
            Require.positive("early-stop threshold", stopBelow);
            Require.positive("lr-decay threshold", decayBelow);
            Require.inHalfOpen("lr-decay factor", decayFactor, 0.0, 1.0);
        }

        public static EarlyStop fig5() {
            return new EarlyStop(0.01, 0.015, 0.1);
        }
    }
}
