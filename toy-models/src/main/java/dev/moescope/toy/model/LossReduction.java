package dev.moescope.toy.model;

/**
 * How the per-sample weighted squared error {@code Σ_i I_i (x_i − x'_i)²} is reduced. Both take the mean over the
 * batch; they differ over features. The scale matters because it is relative to the load-balancing term and to
 * Adam's epsilon.
 */
public enum LossReduction {
    /** Mean over batch, sum over features: the MoE paper's single-model {@code optimize}. */
    SUM_FEATURES,
    /** Mean over batch and features: Anthropic's notebook and the MoE paper's vectorised path. */
    MEAN_FEATURES
}
