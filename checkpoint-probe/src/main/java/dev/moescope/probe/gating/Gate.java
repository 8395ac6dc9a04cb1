package dev.moescope.probe.gating;

import dev.moescope.core.error.MoescopeException;

/**
 * Re-derives a token's routing from its router logits, exactly as the configured {@link GatingScheme} does.
 *
 * <p>Arithmetic is in double precision (the models compute the softmax in fp32; only weights differ, by rounding).
 *
 * <p><b>Ties:</b> among equal selection scores the lower expert id ranks first. This is the ONNX {@code TopK}
 * rule ("the element with the lower index will appear first"), so ids re-derived here equal a graph's own TopK
 * output even on exact ties. PyTorch's {@code topk} does not promise an order on ties; the fused ORT {@code MoE}
 * kernel does not document one either. Groups (DeepSeek-V3) tie the same way: the lower group id wins.
 * NaN logits are rejected rather than silently ranked.
 */
public final class Gate {

    private final GatingConfig config;

    public Gate(GatingConfig config) {
        this.config = config;
    }

    public GatingConfig config() {
        return config;
    }

    /** Routing of one token: {@code logits[offset .. offset+E)} at {@code layer} (used only for per-layer bias). */
    public Routing route(float[] logits, int offset, int layer) {
        int e = config.numExperts();
        if (offset < 0 || offset + e > logits.length) {
            throw new IllegalArgumentException("logit row [" + offset + ", " + (offset + e) + ") outside " + logits.length);
        }
        double[] x = new double[e];
        for (int i = 0; i < e; i++) {
            float v = logits[offset + i];
            if (Float.isNaN(v)) {
                throw MoescopeException.badInput("router logits of layer " + layer + " contain NaN (expert " + i + ")");
            }
            x[i] = v;
        }
        return switch (config.scheme()) {
            case SOFTMAX_TOPK_RENORM -> softmaxTopK(x, true);
            case SOFTMAX_TOPK -> softmaxTopK(x, false);
            case ORT_MOE -> softmaxTopK(x, config.normalize());
            case TOPK_SOFTMAX -> topKSoftmax(x);
            case SIGMOID_GROUPED -> sigmoidGrouped(x, config.biasFor(layer));
        };
    }

    /** Convenience for a whole row array. */
    public Routing route(float[] logits) {
        return route(logits, 0, 0);
    }

    private Routing softmaxTopK(double[] x, boolean renormalise) {
        double[] p = softmax(x);
        int[] ids = topK(p, config.topK(), null);
        double[] w = new double[ids.length];
        double sum = 0;
        for (int i = 0; i < ids.length; i++) {
            w[i] = p[ids[i]];
            sum += w[i];
        }
        if (renormalise) {
            for (int i = 0; i < w.length; i++) {
                w[i] /= sum;
            }
        }
        return new Routing(ids, toFloat(w));
    }

    private Routing topKSoftmax(double[] x) {
        int[] ids = topK(x, config.topK(), null);
        double[] sel = new double[ids.length];
        for (int i = 0; i < ids.length; i++) {
            sel[i] = x[ids[i]];
        }
        return new Routing(ids, toFloat(softmax(sel)));
    }

    private Routing sigmoidGrouped(double[] x, double[] bias) {
        int e = x.length;
        double[] score = new double[e];
        double[] choice = new double[e];
        for (int i = 0; i < e; i++) {
            score[i] = 1.0 / (1.0 + Math.exp(-x[i]));
            choice[i] = score[i] + (bias == null ? 0.0 : bias[i]);
        }
        boolean[] allowed = null;
        int groups = config.numGroups();
        if (groups > 1) {
            int per = e / groups;
            double[] groupScore = new double[groups];
            for (int g = 0; g < groups; g++) {
                // DeepSeek-V3: a group's score is the sum of its two best biased scores (one if a group has one expert)
                double[] member = new double[per];
                System.arraycopy(choice, g * per, member, 0, per);
                int[] best = topK(member, Math.min(2, per), null);
                for (int b : best) {
                    groupScore[g] += member[b];
                }
            }
            int[] keep = topK(groupScore, config.topKGroups(), null);
            allowed = new boolean[e];
            for (int g : keep) {
                for (int i = g * per; i < (g + 1) * per; i++) {
                    allowed[i] = true;
                }
            }
        }
        int[] ids = topK(choice, config.topK(), allowed);
        double[] w = new double[ids.length];
        double sum = 0;
        for (int i = 0; i < ids.length; i++) {
            w[i] = score[ids[i]]; // the bias steers selection only; weights use the plain sigmoid scores
            sum += w[i];
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (config.normalize() ? w[i] / sum : w[i]) * config.routedScaling();
        }
        return new Routing(ids, toFloat(w));
    }

    /** Numerically stable softmax. */
    static double[] softmax(double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            max = Math.max(max, v);
        }
        double[] p = new double[x.length];
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            p[i] = Math.exp(x[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < x.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /**
     * Indices of the k largest values among {@code allowed} (all if null), largest first, ties to the lower index.
     * Selection by repeated scan: k and E are small (k ≤ 8, E ≤ 256), and this keeps the tie rule obvious.
     */
    static int[] topK(double[] v, int k, boolean[] allowed) {
        int[] out = new int[k];
        boolean[] taken = new boolean[v.length];
        for (int r = 0; r < k; r++) {
            int best = -1;
            for (int i = 0; i < v.length; i++) {
                if (taken[i] || (allowed != null && !allowed[i])) {
                    continue;
                }
                if (best < 0 || v[i] > v[best]) { // strict: an equal later value never displaces the lower index
                    best = i;
                }
            }
            if (best < 0) {
                throw new IllegalStateException("fewer than " + k + " selectable experts");
            }
            taken[best] = true;
            out[r] = best;
        }
        return out;
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
