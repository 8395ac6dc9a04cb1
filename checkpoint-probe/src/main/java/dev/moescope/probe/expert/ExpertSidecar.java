package dev.moescope.probe.expert;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.probe.gating.GatingConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the export sidecar ({@code moescope-export.json}, format {@code moescope.export/1}) says about the experts:
 * per MoE layer, the ONNX initializers of the router and of every expert's gate/up/down projections with their
 * layout, the gating, and how many shared experts the block adds. The expert probe recomputes experts from these.
 *
 * @param file          the sidecar
 * @param family        the model family the exporter recorded (informative)
 * @param gating        the gating (same reader as {@code probe run})
 * @param sharedExperts always-on experts added to the routed sum (their weights are not named: the probe derives
 *                      their output as {@code moe_out − Σ routed})
 * @param layers        sidecar layer number → its weights, ascending
 */
public record ExpertSidecar(Path file, String family, GatingConfig gating, int sharedExperts,
                            Map<Integer, LayerWeights> layers) {

    /** How one layer's expert weights are stored. */
    public enum Layout {
        /** One torch Linear per projection and expert: gate, up [I, H]; down [H, I]. */
        LINEAR_PER_EXPERT,
        /** Fused 3-D tensors with a leading expert axis: gate_up [E, 2I, H] (gate rows first) or [E, H, 2I]; down [E, H, I] or [E, I, H]. */
        FUSED_GATE_UP
    }

    /** The gated activation of the experts' gate projection; only SiLU (SwiGLU) is supported. */
    public enum Activation {
        SILU
    }

    /**
     * One MoE layer's weights.
     *
     * @param layer      the sidecar's layer number
     * @param router     initializer of the router weight
     * @param layout     storage layout
     * @param activation the gate activation
     * @param gate       per-expert gate initializers ({@link Layout#LINEAR_PER_EXPERT}), else empty
     * @param up         per-expert up initializers, else empty
     * @param down       per-expert down initializers, or one fused [E, ., .] tensor
     * @param gateUp     the fused gate_up tensor ({@link Layout#FUSED_GATE_UP}), else null
     */
    public record LayerWeights(int layer, String router, Layout layout, Activation activation, List<String> gate,
                               List<String> up, List<String> down, String gateUp) {
        public LayerWeights {
            gate = List.copyOf(gate);
            up = List.copyOf(up);
            down = List.copyOf(down);
        }
    }

    /** The sidecar beside {@code model}. */
    public static Path besideModel(Path model) {
        return model.toAbsolutePath().resolveSibling(GatingConfig.SIDECAR);
    }

    /** Reads {@code file}; every problem is a one-line bad-input error naming it. */
    public static ExpertSidecar read(Path file) {
        JsonObject root;
        try {
            JsonElement e = JsonParser.parseString(Files.readString(file));
            if (!e.isJsonObject()) {
                throw MoescopeException.badInput(file, "export sidecar must be a JSON object");
            }
            root = e.getAsJsonObject();
        } catch (NoSuchFileException e) {
            throw MoescopeException.badInput(file, "no export sidecar here: the expert probe needs "
                    + GatingConfig.SIDECAR + " (written by checkpoint-probe/export) naming the expert weights; "
                    + "pass its path with --sidecar");
        } catch (IOException e) {
            throw MoescopeException.badInput(file, "cannot read: " + e.getMessage(), e);
        } catch (MoescopeException e) {
            throw e;
        } catch (RuntimeException e) {
            throw MoescopeException.badInput(file, "not valid JSON: " + e.getMessage(), e);
        }
        try {
            return parse(file, root);
        } catch (MoescopeException e) {
            throw e;
        } catch (RuntimeException e) {
            throw MoescopeException.badInput(file, "bad export sidecar: " + e, e);
        }
    }

    private static ExpertSidecar parse(Path file, JsonObject root) {
        JsonObject model = root.has("model") && root.get("model").isJsonObject() ? root.getAsJsonObject("model") : null;
        if (model == null || !model.has("moe_weights") || !model.get("moe_weights").isJsonObject()) {
            throw MoescopeException.badInput(file, "no model.moe_weights section naming the expert weights "
                    + "(re-export with checkpoint-probe/export)");
        }
        GatingConfig gating = GatingConfig.fromSidecar(file);
        int shared = 0;
        if (root.has("gating") && root.get("gating").isJsonObject()) {
            JsonObject g = root.getAsJsonObject("gating");
            if (g.has("shared_experts") && !g.get("shared_experts").isJsonNull()) {
                shared = g.get("shared_experts").getAsInt();
            }
        }
        String family = model.has("family") && !model.get("family").isJsonNull() ? model.get("family").getAsString() : "";
        String modelAct = model.has("hidden_act") && !model.get("hidden_act").isJsonNull()
                ? model.get("hidden_act").getAsString() : null;
        Map<Integer, LayerWeights> layers = new TreeMap<>();
        for (Map.Entry<String, JsonElement> en : model.getAsJsonObject("moe_weights").entrySet()) {
            int layer;
            try {
                layer = Integer.parseInt(en.getKey());
            } catch (NumberFormatException ex) {
                throw MoescopeException.badInput(file, "model.moe_weights key '" + en.getKey() + "' is not a layer number");
            }
            JsonObject o = en.getValue().getAsJsonObject();
            String where = "model.moe_weights." + layer;
            String layoutText = string(o, "layout");
            if (layoutText == null) {
                throw MoescopeException.badInput(file, where + " has no 'layout'");
            }
            Layout layout = layout(file, where, layoutText);
            String act = string(o, "activation") != null ? string(o, "activation") : modelAct;
            Activation activation = activation(file, where, act);
            String router = string(o, "router");
            if (router == null) {
                throw MoescopeException.badInput(file, where + " has no 'router'");
            }
            LayerWeights w;
            if (layout == Layout.LINEAR_PER_EXPERT) {
                List<String> g = names(file, where, o, "gate");
                List<String> u = names(file, where, o, "up");
                List<String> d = names(file, where, o, "down");
                if (g.size() != gating.numExperts() || u.size() != g.size() || d.size() != g.size()) {
                    throw MoescopeException.badInput(file, where + ": gate/up/down list " + g.size() + "/" + u.size()
                            + "/" + d.size() + " experts, the gating has " + gating.numExperts());
                }
                w = new LayerWeights(layer, router, layout, activation, g, u, d, null);
            } else {
                String gu = string(o, "gate_up");
                String d = string(o, "down");
                if (gu == null || d == null) {
                    throw MoescopeException.badInput(file, where + ": a fused layout needs 'gate_up' and 'down' tensors");
                }
                if (string(o, "gate_up_bias") != null || string(o, "down_bias") != null) {
                    throw MoescopeException.badInput(file, where + ": biased fused experts are not supported by the "
                            + "expert probe");
                }
                w = new LayerWeights(layer, router, layout, activation, List.of(), List.of(), List.of(d), gu);
            }
            layers.put(layer, w);
        }
        if (layers.isEmpty()) {
            throw MoescopeException.badInput(file, "model.moe_weights names no layer");
        }
        return new ExpertSidecar(file, family, gating, shared, Collections.unmodifiableMap(layers));
    }

    private static Layout layout(Path file, String where, String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.startsWith("linear_per_expert")) {
            return Layout.LINEAR_PER_EXPERT;
        }
        if (t.startsWith("fused_gate_up")) {
            return Layout.FUSED_GATE_UP;
        }
        if (t.startsWith("gpt_oss")) {
            throw MoescopeException.badInput(file, where + ": GPT-OSS experts (interleaved gate/up with biases and "
                    + "a clamped SwiGLU) are not supported by the expert probe; supported layouts: "
                    + "linear_per_expert, fused_gate_up");
        }
        throw MoescopeException.badInput(file, where + ": expert layout '" + text + "' is not supported by the "
                + "expert probe; supported layouts: linear_per_expert, fused_gate_up");
    }

    private static Activation activation(Path file, String where, String act) {
        if (act == null) {
            return Activation.SILU; // every family the exporter supports with these layouts gates with SiLU
        }
        return switch (act.strip().toLowerCase(Locale.ROOT)) {
            case "silu", "swish", "swiglu" -> Activation.SILU;
            default -> throw MoescopeException.badInput(file, where + ": expert activation '" + act
                    + "' is not supported by the expert probe (supported: silu)");
        };
    }

    private static String string(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsString() : null;
    }

    private static List<String> names(Path file, String where, JsonObject o, String key) {
        if (!o.has(key) || !o.get(key).isJsonArray()) {
            throw MoescopeException.badInput(file, where + ": no '" + key + "' list of per-expert tensors");
        }
        JsonArray a = o.getAsJsonArray(key);
        List<String> out = new ArrayList<>();
        for (JsonElement e : a) {
            if (e.isJsonNull()) {
                throw MoescopeException.badInput(file, where + "." + key + " has a null tensor name");
            }
            out.add(e.getAsString());
        }
        return out;
    }
}
