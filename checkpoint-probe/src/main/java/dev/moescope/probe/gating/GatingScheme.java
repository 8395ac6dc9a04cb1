package dev.moescope.probe.gating;

import dev.moescope.core.error.MoescopeException;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How a router turns logits into expert choices and gate weights (probe spec §3.7). */
public enum GatingScheme {
    /** softmax over all E, top-k, weights renormalised to sum 1 over the k (Mixtral, Qwen3-MoE). */
    SOFTMAX_TOPK_RENORM("softmax-topk-renorm"),
    /** softmax over all E, top-k, raw softmax weights (OLMoE, DeepSeek-MoE v1, Qwen1.5-MoE, tiny-moe). */
    SOFTMAX_TOPK("softmax-topk"),
    /**
     * DeepSeek-V3: scores = sigmoid(logits); selection on scores + e_score_correction_bias, restricted to the
     * {@code topk_group} groups with the largest sum of their top-2 biased scores; weights are the unbiased scores,
     * renormalised if {@code normalize}, times {@code routed_scaling_factor}.
     */
    SIGMOID_GROUPED("sigmoid-grouped"),
    /** top-k on the raw logits, then softmax over the k selected logits only (GPT-OSS, GraniteMoE). */
    TOPK_SOFTMAX("topk-softmax"),
    /**
     * ONNX Runtime {@code com.microsoft.MoE}: its {@code router_probs} input holds logits; softmax over all E, top-k,
     * renormalised iff the op's {@code normalize_routing_weights} attribute is 1.
     */
    ORT_MOE("ort-moe");

    private final String id;

    GatingScheme(String id) {
        this.id = id;
    }

    /** The name used on the command line and in sidecar JSON. */
    public String id() {
        return id;
    }

    /** Parses a scheme name ({@code softmax-topk-renorm}, ...); underscores and case are ignored. */
    public static GatingScheme parse(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT).replace('_', '-');
        for (GatingScheme s : values()) {
            if (s.id.equals(n)) {
                return s;
            }
        }
        throw MoescopeException.usage("unknown gating scheme '" + name + "'; known: " + names());
    }

    static String names() {
        return Arrays.stream(values()).map(GatingScheme::id).collect(Collectors.joining(", "));
    }
}
