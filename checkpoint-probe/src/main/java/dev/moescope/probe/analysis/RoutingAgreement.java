package dev.moescope.probe.analysis;

import java.util.Map;
import java.util.TreeMap;

/**
 * Agreement between two routings of the same tokens (two checkpoints: OLMoE router saturation; fp16 vs fp32; ONNX
 * vs PyTorch), per layer: top-1 equality rate, mean top-k Jaccard, and OLMoE's saturation
 * {@code |E^(t) ∩ E^(T)| / k}.
 */
public final class RoutingAgreement {

    private final Map<Integer, long[]> counts = new TreeMap<>();      // layer -> {tokens, top1 equal}
    private final Map<Integer, double[]> sums = new TreeMap<>();      // layer -> {jaccard, overlap/k}

    /** Adds one token's routing in run a and run b at {@code layer}. */
    public void add(int layer, int[] a, int[] b) {
        long[] c = counts.computeIfAbsent(layer, l -> new long[2]);
        double[] s = sums.computeIfAbsent(layer, l -> new double[2]);
        c[0]++;
        c[1] += a[0] == b[0] ? 1 : 0;
        s[0] += jaccard(a, b);
        s[1] += (double) intersection(a, b) / Math.max(a.length, b.length);
    }

    public Iterable<Integer> layers() {
        return counts.keySet();
    }

    public long tokens(int layer) {
        return counts.get(layer)[0];
    }

    public double top1Agreement(int layer) {
        long[] c = counts.get(layer);
        return (double) c[1] / c[0];
    }

    public double meanJaccard(int layer) {
        return sums.get(layer)[0] / counts.get(layer)[0];
    }

    /** OLMoE router saturation: mean |E_a ∩ E_b| / k. */
    public double saturation(int layer) {
        return sums.get(layer)[1] / counts.get(layer)[0];
    }

    static int intersection(int[] a, int[] b) {
        int n = 0;
        for (int x : a) {
            for (int y : b) {
                if (x == y) {
                    n++;
                    break;
                }
            }
        }
        return n;
    }

    /** |a ∩ b| / |a ∪ b| of two expert sets (ids within a set are distinct). */
    static double jaccard(int[] a, int[] b) {
        int inter = intersection(a, b);
        return (double) inter / (a.length + b.length - inter);
    }
}
