package dev.moescope.probe.expert;

import dev.moescope.probe.gating.GatingConfig;
import dev.moescope.probe.gating.GatingScheme;
import dev.moescope.probe.lens.MoeLens;

/**
 * The single-expert approximations H¹ of one token's MoE layer output H^k (probe spec §1.3 (b), (d) and §1.5), and
 * their cosine similarity to the reference each definition compares with.
 *
 * <p>Notation: x is the MoE block's input (the router's input, i.e. the post-attention norm's output), u the residual
 * the block adds to (u = resid_post − moe_out, the input of the post-attention norm), E_i(x) the output of the i-th
 * ranked chosen expert, w_i its weight in the model's own top-k mixture, p₁ the top expert's raw router score, S the
 * shared experts' output (zero for models without them) and H^k = resid_post = u + Σ w_i E_i(x) + S.
 */
public final class SingleExpert {

    /** The H¹ definitions. The first three are corrected (true u, weighted expert) and compared with H^k. */
    public enum Variant {
        /** u + p₁·E₁(x) + S: the top expert with its raw router score, as top-1 is in a model without renormalisation. */
        RAW("raw", "u + p1*E1(x) + S vs H^k: the top expert with its raw router score (softmax over all experts; "
                + "sigmoid x scaling for sigmoid gating)", true),
        /** u + 1·E₁(x) + S: the top expert renormalised alone, as top-1 is in a renormalising model. */
        RENORMALISED("renormalised", "u + E1(x) + S vs H^k: the top expert renormalised alone (weight 1, times the "
                + "routed scaling factor if any)", true),
        /** u + w₁·E₁(x) + S: the top expert's own term of the model's top-k mixture (Eq. 1 truncated to its first term). */
        MIXTURE_WEIGHT("mixture_weight", "u + w1*E1(x) + S vs H^k: the top expert with the weight it has in the "
                + "model's own top-k mixture", true),
        /**
         * MoE Lens's released {@code cosine-sim.ipynb}: E₁(x) + x against Σ w_i (E_i(x) + x) / Σ w_i, i.e. the
         * unweighted top expert plus the post-attention norm's output, against a renormalised mixture plus the same;
         * without the notebook's row-0 bug (each token's own expert outputs are used) and without shared experts.
         */
        MOE_INTERP("moe_interp", "E1(x) + x vs sum_i w_i (E_i(x) + x) / sum_i w_i: moe-interp's cosine-sim.ipynb "
                + "(unweighted expert, normalised residual x = post-attention norm output, renormalised mixture), "
                + "each token's own expert outputs (no row-0 bug), no shared experts", false),
        /**
         * {@link #MOE_INTERP} with the released notebook's row-matching bug reproduced: every expert output is that
         * expert's output on the first token of the same forward pass (window) routed to it, which is what row 0 of
         * the expert's captured output holds in DeepSeek's expert-sorted {@code moe_infer} (probe spec §1.3 (d)).
         * Only scored tokens count as "first" (with {@code --overlap}, the repeated context is not recomputed).
         */
        MOE_INTERP_ROW0("moe_interp_row0", "moe_interp with the notebook's row-0 bug: each expert's output taken on "
                + "the first token of the same forward pass (window) routed to that expert, not on the token itself",
                false),
        /**
         * E₁(x) against Σ w_i E_i(x): the top expert against the routed mixture with no residual in either vector, so
         * the residual stream, which dominates every other variant's two vectors, cannot make them look alike. Any
         * positive weight of E₁ gives the same cosine; shared experts are left out.
         */
        EXPERT_ONLY("expert_only", "E1(x) vs sum_i w_i E_i(x): the top expert against the routed mixture, no "
                + "residual in either (scale-free, so raw, renormalised and mixture weights agree), no shared experts",
                false);

        private final String id;
        private final String definition;
        private final boolean corrected;

        Variant(String id, String definition, boolean corrected) {
            this.id = id;
            this.definition = definition;
            this.corrected = corrected;
        }

        /** Label in reports and CSVs. */
        public String id() {
            return id;
        }

        public String definition() {
            return definition;
        }

        /** A corrected H¹ (a residual-stream vector compared with H^k): these also go through the logit lens. */
        public boolean corrected() {
            return corrected;
        }
    }

    /**
     * One token at one layer.
     *
     * @param x        the MoE block input, length H
     * @param u        the residual the block adds to
     * @param hk       the model's layer output H^k (resid_post)
     * @param experts  E_i(x) of the chosen experts in rank order, k × H
     * @param weights  w_i, the model's weights of the chosen experts
     * @param rawTop   p₁, the top expert's raw score; NaN where the gating has no raw variant (top-k then softmax)
     * @param renormTop the top expert's weight when renormalised alone
     * @param shared   S, the shared experts' output, or null
     * @param row0Experts the chosen experts' outputs on the first token of the window routed to each (for
     *                    {@link Variant#MOE_INTERP_ROW0}), or null
     */
    public record Token(float[] x, float[] u, float[] hk, float[][] experts, float[] weights, double rawTop,
                        double renormTop, float[] shared, float[][] row0Experts) {

        /** A token without the row-0 outputs. */
        public Token(float[] x, float[] u, float[] hk, float[][] experts, float[] weights, double rawTop,
                     double renormTop, float[] shared) {
            this(x, u, hk, experts, weights, rawTop, renormTop, shared, null);
        }
    }

    private SingleExpert() {
    }

    /** H¹ of a corrected variant (NaN-filled for {@link Variant#RAW} without a raw score). */
    public static float[] h1(Variant v, Token t) {
        if (!v.corrected()) {
            throw new IllegalArgumentException(v + " is not a residual-stream vector");
        }
        double weight = switch (v) {
            case RAW -> t.rawTop();
            case RENORMALISED -> t.renormTop();
            default -> t.weights()[0];
        };
        int h = t.hk().length;
        float[] out = new float[h];
        for (int i = 0; i < h; i++) {
            out[i] = (float) (t.u()[i] + weight * t.experts()[0][i] + (t.shared() == null ? 0 : t.shared()[i]));
        }
        return out;
    }

    /**
     * u + w_r·E_r(x) + S for the expert of rank {@code rank} (0 = top): each chosen expert alone with its mixture
     * weight, the vectors MoE Lens's extended logit lens decodes per expert ({@link Variant#MIXTURE_WEIGHT} is rank 0).
     */
    public static float[] ranked(Token t, int rank) {
        int h = t.hk().length;
        float[] out = new float[h];
        double w = t.weights()[rank];
        for (int i = 0; i < h; i++) {
            out[i] = (float) (t.u()[i] + w * t.experts()[rank][i] + (t.shared() == null ? 0 : t.shared()[i]));
        }
        return out;
    }

    /** The cosine similarity the variant defines; NaN for {@link Variant#RAW} where there is no raw score. */
    public static double cosine(Variant v, Token t) {
        if (v == Variant.RAW && Double.isNaN(t.rawTop())) {
            return Double.NaN;
        }
        if (v.corrected()) {
            return MoeLens.cos(h1(v, t), t.hk(), 0, t.hk().length);
        }
        int h = t.x().length;
        if (v == Variant.MOE_INTERP) {
            return moeInterp(t.x(), t.experts(), t.weights());
        }
        if (v == Variant.MOE_INTERP_ROW0) {
            return t.row0Experts() == null ? Double.NaN : moeInterp(t.x(), t.row0Experts(), t.weights());
        }
        if (v == Variant.EXPERT_ONLY) {
            float[] mix = new float[h];
            for (int i = 0; i < h; i++) {
                double m = 0;
                for (int j = 0; j < t.weights().length; j++) {
                    m += t.weights()[j] * t.experts()[j][i];
                }
                mix[i] = (float) m;
            }
            return MoeLens.cos(t.experts()[0], mix, 0, h);
        }
        throw new IllegalArgumentException("no cosine defined for " + v);
    }

    /** cos(E₁ + x, Σ w_i (E_i + x) / Σ w_i): the released notebook's H¹ and H⁶. */
    private static double moeInterp(float[] x, float[][] experts, float[] weights) {
        int h = x.length;
        float[] one = new float[h];
        float[] mix = new float[h];
        double sum = 0;
        for (float w : weights) {
            sum += w;
        }
        for (int i = 0; i < h; i++) {
            one[i] = experts[0][i] + x[i];
            double m = 0;
            for (int j = 0; j < weights.length; j++) {
                m += weights[j] * (experts[j][i] + x[i]);
            }
            mix[i] = (float) (m / sum);
        }
        return MoeLens.cos(one, mix, 0, h);
    }

    /**
     * p₁, the top expert's raw score under {@code gating}, from the token's router logits: softmax over all experts
     * for softmax gatings, sigmoid × routed scaling for sigmoid gating; NaN for top-k-then-softmax gating (GPT-OSS,
     * Granite), which has no raw variant.
     */
    public static double rawTopWeight(GatingConfig gating, float[] logits, int off, int top1) {
        int e = gating.numExperts();
        return switch (gating.scheme()) {
            case SOFTMAX_TOPK, SOFTMAX_TOPK_RENORM, ORT_MOE -> {
                double max = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < e; i++) {
                    max = Math.max(max, logits[off + i]);
                }
                double z = 0;
                for (int i = 0; i < e; i++) {
                    z += Math.exp(logits[off + i] - max);
                }
                yield Math.exp(logits[off + top1] - max) / z;
            }
            case SIGMOID_GROUPED -> gating.routedScaling() / (1 + Math.exp(-logits[off + top1]));
            case TOPK_SOFTMAX -> Double.NaN;
        };
    }

    /** The top expert's weight when renormalised alone: 1, times the routed scaling of sigmoid gating. */
    public static double renormalisedTopWeight(GatingConfig gating) {
        return gating.scheme() == GatingScheme.SIGMOID_GROUPED ? gating.routedScaling() : 1.0;
    }

    /** The variant the architecture's own top-1 is: renormalised if the gating renormalises its top-k, else raw. */
    public static Variant modelTop1(GatingConfig gating) {
        boolean renorm = switch (gating.scheme()) {
            case SOFTMAX_TOPK_RENORM, TOPK_SOFTMAX -> true;
            case SOFTMAX_TOPK -> false;
            case ORT_MOE, SIGMOID_GROUPED -> gating.normalize();
        };
        return renorm ? Variant.RENORMALISED : Variant.RAW;
    }
}
