package dev.moescope.probe.gating;

import java.util.Arrays;

/**
 * One token's routing at one layer: the chosen experts in rank order (best first) and their gate weights.
 *
 * @param experts expert ids, rank order
 * @param weights the gate weight of each chosen expert, as the model multiplies the expert's output by it
 */
public record Routing(int[] experts, float[] weights) {

    public Routing {
        if (experts.length != weights.length) {
            throw new IllegalArgumentException("experts and weights differ in length");
        }
    }

    public int k() {
        return experts.length;
    }

    /** The first-ranked expert. */
    public int top1() {
        return experts[0];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Routing r && Arrays.equals(experts, r.experts) && Arrays.equals(weights, r.weights);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(experts) + Arrays.hashCode(weights);
    }

    @Override
    public String toString() {
        return "Routing" + Arrays.toString(experts) + Arrays.toString(weights);
    }
}
