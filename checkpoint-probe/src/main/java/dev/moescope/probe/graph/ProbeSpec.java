package dev.moescope.probe.graph;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.Json;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What to capture from one ONNX model, per MoE layer: the tensor names of its hooks. {@code moescope probe inspect}
 * prints it as JSON; a user may edit that JSON and pass it back with {@code --spec} when detection is wrong or
 * impossible. Hook kinds ({@link #ROUTER_LOGITS} etc.) are exposed as graph outputs named
 * {@code blocks.<layer>.<kind>}, the project's hook convention.
 *
 * @param model      the model file it was made for (informative)
 * @param source     how it was made: {@code "graph structure"}, {@code "hook outputs"}, both, or {@code "spec file"}
 * @param numExperts E, the router width (0 if unknown)
 * @param gating     the gating the graph appears to use, as {@code --gating} text, or null; a guess from the graph's
 *                   own ops (a sidecar or {@code --gating} overrides it)
 * @param layers     one entry per MoE layer, in graph order
 * @param topK       every TopK node and fused MoE op whose k the top-k sweep overrides
 */
public record ProbeSpec(String model, String source, int numExperts, String gating, List<Layer> layers,
                        List<TopKSite> topK) {

    /** Pre-softmax router logits [tokens, E] (or [batch, seq, E]). */
    public static final String ROUTER_LOGITS = "router_logits";
    /** The residual stream the MoE block adds to: u_t, after attention, before the MoE block's norm. */
    public static final String RESID_MID = "resid_mid";
    /** The MoE block's output (weighted routed experts, plus shared experts if the model has them). */
    public static final String MOE_OUT = "moe_out";
    /** The residual stream after the MoE block: resid_mid + moe_out. */
    public static final String RESID_POST = "resid_post";

    public ProbeSpec {
        layers = layers == null ? List.of() : List.copyOf(layers);
        topK = topK == null ? List.of() : List.copyOf(topK);
    }

    /**
     * One MoE layer.
     *
     * @param layer      the layer number used in hook names
     * @param hooks      hook kind → tensor name in the graph
     * @param routerNode the node computing the router logits (informative)
     */
    public record Layer(int layer, Map<String, String> hooks, String routerNode) {
        public Layer {
            hooks = hooks == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(hooks));
        }

        /** The graph output name a hook gets: {@code blocks.<layer>.<kind>}. */
        public String hookName(String kind) {
            return ProbeSpec.hookName(layer, kind);
        }
    }

    /**
     * A node whose k the sweep can override.
     *
     * @param node  node name
     * @param op    {@code TopK} or {@code com.microsoft.MoE}/{@code QMoE}
     * @param k     the k in the graph (0 if computed at run time)
     * @param layer the MoE layer it belongs to, or null if not tied to a found router
     */
    public record TopKSite(String node, String op, long k, Integer layer) {
    }

    public static String hookName(int layer, String kind) {
        return "blocks." + layer + "." + kind;
    }

    public Layer layer(int number) {
        for (Layer l : layers) {
            if (l.layer() == number) {
                return l;
            }
        }
        throw MoescopeException.usage("layer " + number + " is not an MoE layer of " + model);
    }

    /** Every (hook name → tensor) pair, in layer order. */
    public Map<String, String> allHooks() {
        Map<String, String> m = new LinkedHashMap<>();
        for (Layer l : layers) {
            l.hooks().forEach((kind, tensor) -> m.put(l.hookName(kind), tensor));
        }
        return m;
    }

    public String toJson() {
        return Json.toJson(this);
    }

    /** Reads an edited spec; tensors are checked against the graph by {@link #validate(GraphIndex, Path)}. */
    public static ProbeSpec read(Path file) {
        ProbeSpec s = Json.read(file, ProbeSpec.class);
        if (s == null || s.layers().isEmpty()) {
            throw MoescopeException.badInput(file, "probe spec lists no layers");
        }
        List<Layer> layers = new ArrayList<>();
        for (Layer l : s.layers()) {
            if (l == null || l.hooks().isEmpty()) {
                throw MoescopeException.badInput(file, "a layer entry has no hooks");
            }
            layers.add(l);
        }
        return new ProbeSpec(s.model(), "spec file", s.numExperts(), s.gating(), layers, s.topK());
    }

    /** Reads an edited spec and checks every tensor it names against {@code model}'s graph. */
    public static ProbeSpec read(Path file, ModelProto model) {
        ProbeSpec s = read(file);
        s.validate(new GraphIndex(model.getGraph()), file);
        return s;
    }

    /** Every tensor the spec names must exist in the graph; the error names the spec file and the tensor. */
    public void validate(GraphIndex index, Path specFile) {
        for (Layer l : layers) {
            for (Map.Entry<String, String> h : l.hooks().entrySet()) {
                if (h.getValue() == null || !index.exists(h.getValue())) {
                    throw MoescopeException.badInput(specFile, "layer " + l.layer() + " hook " + h.getKey()
                            + ": no tensor '" + h.getValue() + "' in the model");
                }
            }
        }
    }
}
