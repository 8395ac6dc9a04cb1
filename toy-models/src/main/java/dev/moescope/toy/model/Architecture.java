package dev.moescope.toy.model;

import dev.moescope.core.error.Require;

/**
 * The shape of a toy model: {@code n} features, {@code m} hidden dimensions per expert, {@code experts} tied-weight
 * autoencoders behind a router, of which {@code active} (k) are used per input. The dense TMS model is
 * {@code experts = active = 1}: its router is a single expert with weight exactly 1.
 *
 * @param features n, the input and output width
 * @param hidden   m, the bottleneck width of each expert
 * @param experts  E, the number of experts
 * @param active   k, experts chosen per input (top-k of the router's softmax)
 */
public record Architecture(int features, int hidden, int experts, int active) {

    public Architecture {
        Require.positive("features (n)", features);
        Require.positive("hidden (m)", hidden);
        Require.positive("experts (E)", experts);
        Require.positive("active experts (k)", active);
        Require.that(active <= experts, "active experts (k)", "at most the number of experts " + experts, active);
    }

    /** The dense TMS model {@code x' = ReLU(WᵀWx + b)}. */
    public static Architecture dense(int features, int hidden) {
        return new Architecture(features, hidden, 1, 1);
    }

    public boolean isDense() {
        return experts == 1;
    }

    /** Floats in one instance's expert weights W (E × n × m). */
    public int weightSize() {
        return experts * features * hidden;
    }

    /** Floats in one instance's output biases b, and in its router (both E × n). */
    public int biasSize() {
        return experts * features;
    }

    /** A compact label such as {@code n100-m5-E4-k1}. */
    public String label() {
        return "n" + features + "-m" + hidden + "-E" + experts + "-k" + active;
    }
}
