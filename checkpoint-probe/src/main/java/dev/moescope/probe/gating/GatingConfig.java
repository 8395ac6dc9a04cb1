package dev.moescope.probe.gating;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.Require;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The gating of one model: which {@link GatingScheme}, how many experts and how many are chosen per token, and the
 * scheme's extra parameters.
 *
 * @param scheme              how logits become choices and weights
 * @param numExperts          E, the router's width
 * @param topK                experts chosen per token
 * @param normalize           renormalise the chosen weights to sum 1 (used by {@link GatingScheme#SIGMOID_GROUPED}
 *                            and {@link GatingScheme#ORT_MOE}; implied by the other schemes)
 * @param numGroups           DeepSeek-V3 {@code n_group} (1 = no group limit)
 * @param topKGroups          DeepSeek-V3 {@code topk_group}: groups kept per token
 * @param routedScaling       DeepSeek-V3 {@code routed_scaling_factor} (1 elsewhere)
 * @param scoreCorrectionBias DeepSeek-V3 {@code e_score_correction_bias}: one row of E values shared by every layer,
 *                            or one row per layer; empty for none
 */
public record GatingConfig(GatingScheme scheme, int numExperts, int topK, boolean normalize, int numGroups,
                           int topKGroups, double routedScaling, double[][] scoreCorrectionBias) {

    public GatingConfig {
        Require.notNull("gating scheme", scheme);
        Require.positive("number of experts", numExperts);
        Require.positive("top-k", topK);
        Require.that(topK <= numExperts, "top-k", "at most the number of experts (" + numExperts + ")", topK);
        Require.positive("number of expert groups", numGroups);
        Require.that(numExperts % numGroups == 0, "number of expert groups", "a divisor of " + numExperts, numGroups);
        Require.that(topKGroups >= 1 && topKGroups <= numGroups, "top-k groups", "in [1, " + numGroups + "]", topKGroups);
        Require.that(scheme != GatingScheme.SIGMOID_GROUPED || topK <= topKGroups * (numExperts / numGroups),
                "top-k", "at most top-k groups x experts per group", topK);
        Require.positive("routed scaling factor", routedScaling);
        scoreCorrectionBias = scoreCorrectionBias == null ? new double[0][] : scoreCorrectionBias.clone();
        for (double[] row : scoreCorrectionBias) {
            Require.that(row.length == numExperts, "e_score_correction_bias row length", "E = " + numExperts, row.length);
        }
    }

    /** A scheme with no groups, bias or scaling. */
    public static GatingConfig of(GatingScheme scheme, int numExperts, int topK) {
        boolean norm = scheme == GatingScheme.SOFTMAX_TOPK_RENORM || scheme == GatingScheme.TOPK_SOFTMAX;
        return new GatingConfig(scheme, numExperts, topK, norm, 1, 1, 1.0, null);
    }

    /** The same gating with another k (the top-k sweep). */
    public GatingConfig withTopK(int k) {
        return new GatingConfig(scheme, numExperts, k, normalize, numGroups, topKGroups, routedScaling, scoreCorrectionBias);
    }

    /** The bias row for {@code layer} (a single shared row applies to every layer), or null. */
    public double[] biasFor(int layer) {
        if (scoreCorrectionBias.length == 0) {
            return null;
        }
        if (scoreCorrectionBias.length == 1) {
            return scoreCorrectionBias[0];
        }
        if (layer < 0 || layer >= scoreCorrectionBias.length) {
            throw MoescopeException.badInput("e_score_correction_bias has " + scoreCorrectionBias.length
                    + " layer rows, no row for layer " + layer);
        }
        return scoreCorrectionBias[layer];
    }

    /** A readable description, also the provenance value: {@code softmax-topk-renorm:e=8,k=2}. */
    public String describe() {
        StringBuilder b = new StringBuilder(scheme.id()).append(":e=").append(numExperts).append(",k=").append(topK);
        if (scheme == GatingScheme.SIGMOID_GROUPED || scheme == GatingScheme.ORT_MOE) {
            b.append(",normalize=").append(normalize);
        }
        if (scheme == GatingScheme.SIGMOID_GROUPED) {
            b.append(",groups=").append(numGroups).append(",topk-groups=").append(topKGroups)
                    .append(",scale=").append(routedScaling).append(",bias-rows=").append(scoreCorrectionBias.length);
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return describe();
    }

    /**
     * Parses {@code --gating}: {@code SCHEME-OR-MODEL[:key=value,...]}, keys {@code e}, {@code k}, {@code normalize},
     * {@code groups}, {@code topk-groups}, {@code scale}. A model type ({@code mixtral}, {@code olmoe}, ...) stands for
     * its scheme. {@code e} defaults to {@code graphExperts} (the router width found in the graph; 0 = unknown).
     */
    public static GatingConfig parse(String text, int graphExperts) {
        String head = text;
        String tail = "";
        int colon = text.indexOf(':');
        if (colon >= 0) {
            head = text.substring(0, colon);
            tail = text.substring(colon + 1);
        }
        Map<String, String> kv = new LinkedHashMap<>();
        for (String part : tail.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw MoescopeException.usage("--gating: expected key=value, got '" + part + "' in '" + text + "'");
            }
            kv.put(part.substring(0, eq).strip().toLowerCase(Locale.ROOT), part.substring(eq + 1).strip());
        }
        Preset p = Preset.lookup(head);
        GatingScheme scheme = p != null ? p.scheme : GatingScheme.parse(head);
        int e = intOpt(kv.remove("e"), graphExperts, text);
        int k = intOpt(kv.remove("k"), p != null ? p.defaultK : 0, text);
        if (e <= 0 || k <= 0) {
            throw MoescopeException.usage("--gating '" + text + "' needs " + (e <= 0 ? "e=<experts>" : "k=<top-k>"));
        }
        boolean norm = boolOpt(kv.remove("normalize"),
                p != null ? p.normalize : scheme != GatingScheme.SOFTMAX_TOPK && scheme != GatingScheme.ORT_MOE);
        int groups = intOpt(kv.remove("groups"), 1, text);
        int topkGroups = intOpt(kv.remove("topk-groups"), groups, text);
        double scale = kv.containsKey("scale") ? doubleOpt(kv.remove("scale"), text) : 1.0;
        if (!kv.isEmpty()) {
            throw MoescopeException.usage("--gating: unknown key(s) " + kv.keySet() + " in '" + text
                    + "'; known: e, k, normalize, groups, topk-groups, scale");
        }
        checkNormalize(scheme, norm, text);
        return new GatingConfig(scheme, e, k, norm, groups, topkGroups, scale, null);
    }

    /** File name of the export sidecar looked for beside a model. */
    public static final String SIDECAR = "moescope-export.json";

    /**
     * The gating of {@code model}: {@code option} (the {@code --gating} text) if given, else the export sidecar
     * {@code moescope-export.json} beside the model when it describes a gating, else {@code graphGuess} (what the
     * graph's ops suggest, may be null); bad input naming the model when none says.
     */
    public static GatingConfig forModel(String option, Path model, String graphGuess, int graphExperts) {
        if (option != null) {
            return parse(option, graphExperts);
        }
        Path sidecar = model.toAbsolutePath().resolveSibling(SIDECAR);
        if (Files.isRegularFile(sidecar)) {
            try {
                JsonElement e = JsonParser.parseString(Files.readString(sidecar));
                if (e.isJsonObject() && e.getAsJsonObject().has("gating")
                        && e.getAsJsonObject().get("gating").isJsonObject()) {
                    return fromSidecar(sidecar);
                }
            } catch (IOException | RuntimeException e) {
                if (e instanceof MoescopeException me) {
                    throw me;
                }
                throw MoescopeException.badInput(sidecar, "not a readable JSON export sidecar: " + e.getMessage(), e);
            }
        }
        if (graphGuess == null) {
            throw MoescopeException.badInput(model, "cannot tell the gating from the graph or a " + SIDECAR
                    + " sidecar; pass --gating (e.g. mixtral, softmax-topk:k=8)");
        }
        return parse(graphGuess, graphExperts);
    }

    /**
     * Reads the gating from an export sidecar JSON file. The keys may sit at the top level or under {@code "gating"};
     * moescope's own names ({@code scheme}, {@code num_experts}, {@code top_k}, {@code normalize}) and Hugging Face
     * config names ({@code model_type}, {@code num_local_experts}, {@code n_routed_experts},
     * {@code num_experts_per_tok}, {@code norm_topk_prob}, {@code scoring_func}, {@code n_group}, {@code topk_group},
     * {@code routed_scaling_factor}, {@code e_score_correction_bias}) are both understood, as is the export sidecar's
     * per-layer {@code selection_bias_values}.
     */
    public static GatingConfig fromSidecar(Path file) {
        JsonObject root;
        try {
            JsonElement parsed = JsonParser.parseString(Files.readString(file));
            if (!parsed.isJsonObject()) {
                throw MoescopeException.badInput(file, "gating sidecar must be a JSON object");
            }
            root = parsed.getAsJsonObject();
        } catch (NoSuchFileException e) {
            throw MoescopeException.badInput(file, "no such file");
        } catch (IOException e) {
            throw MoescopeException.badInput(file, "cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            if (e instanceof MoescopeException me) {
                throw me;
            }
            throw MoescopeException.badInput(file, "not valid JSON: " + e.getMessage(), e);
        }
        try {
            return fromJson(root.has("gating") && root.get("gating").isJsonObject() ? merged(root) : root);
        } catch (MoescopeException e) {
            throw MoescopeException.badInput(file, e.getMessage(), e);
        } catch (RuntimeException e) {
            throw MoescopeException.badInput(file, "bad gating description: " + e.getMessage(), e);
        }
    }

    /** Top-level keys, overridden by those under "gating". */
    private static JsonObject merged(JsonObject root) {
        JsonObject m = new JsonObject();
        root.entrySet().forEach(en -> m.add(en.getKey(), en.getValue()));
        root.getAsJsonObject("gating").entrySet().forEach(en -> m.add(en.getKey(), en.getValue()));
        return m;
    }

    /** See {@link #fromSidecar(Path)}. */
    public static GatingConfig fromJson(JsonObject o) {
        if (o.has("score_function") && o.get("score_function").isJsonPrimitive()) {
            String f = o.get("score_function").getAsString();
            if (!f.equals("softmax") && !f.equals("sigmoid")) {
                // PhiMoE's sparsemixer picks by two argmax rounds inside a jitter window: read as softmax top-k it
                // would route silently wrong, so refuse it until the Java gate implements it
                throw MoescopeException.badInput("gating: score_function '" + f + "' is not supported by the Java "
                        + "gate (softmax and sigmoid are); routing cannot be re-derived for this model");
            }
        }
        Preset preset = o.has("model_type") ? Preset.lookup(o.get("model_type").getAsString()) : null;
        GatingScheme scheme;
        if (o.has("scheme") && o.get("scheme").isJsonPrimitive()) {
            String s = o.get("scheme").getAsString();
            Preset p = Preset.lookup(s);
            scheme = p != null ? p.scheme : GatingScheme.parse(s);
            preset = p != null ? p : preset;
        } else if (preset != null) {
            scheme = preset.scheme;
        } else if (o.has("scoring_func") && o.get("scoring_func").getAsString().equals("sigmoid")) {
            scheme = GatingScheme.SIGMOID_GROUPED;
        } else if (o.has("norm_topk_prob")) {
            scheme = o.get("norm_topk_prob").getAsBoolean() ? GatingScheme.SOFTMAX_TOPK_RENORM : GatingScheme.SOFTMAX_TOPK;
        } else if (o.has("score_function") && o.get("score_function").isJsonPrimitive()) {
            // moescope's export sidecar (moescope.export/1)
            boolean before = !o.has("score_before_topk") || o.get("score_before_topk").getAsBoolean();
            boolean normTopK = o.has("normalize_topk") && o.get("normalize_topk").getAsBoolean();
            scheme = o.get("score_function").getAsString().equals("sigmoid") ? GatingScheme.SIGMOID_GROUPED
                    : !before ? GatingScheme.TOPK_SOFTMAX
                    : normTopK ? GatingScheme.SOFTMAX_TOPK_RENORM : GatingScheme.SOFTMAX_TOPK;
        } else {
            throw MoescopeException.badInput("gating: no 'scheme', 'model_type', 'scoring_func', 'score_function' or"
                    + " 'norm_topk_prob' key");
        }
        int e = firstInt(o, "num_experts", "num_local_experts", "n_routed_experts");
        int k = firstInt(o, "top_k", "num_experts_per_tok", "k");
        if (k <= 0 && preset != null) {
            k = preset.defaultK;
        }
        if (e <= 0 || k <= 0) {
            throw MoescopeException.badInput("gating: missing " + (e <= 0 ? "num_experts" : "top_k"));
        }
        boolean norm;
        if (o.has("normalize")) {
            norm = o.get("normalize").getAsBoolean();
        } else if (o.has("norm_topk_prob")) {
            norm = o.get("norm_topk_prob").getAsBoolean();
        } else if (o.has("normalize_topk") && o.get("normalize_topk").isJsonPrimitive()) {
            // the export sidecar's normalize_topk means "renormalise after scoring"; a softmax over the k chosen
            // logits (GPT-OSS, GraniteMoE) already sums to one, so it is normalised whatever the flag says
            norm = o.get("normalize_topk").getAsBoolean() || scheme == GatingScheme.TOPK_SOFTMAX;
        } else if (o.has("normalize_routing_weights")) {
            norm = o.get("normalize_routing_weights").getAsInt() != 0;
        } else {
            norm = preset != null ? preset.normalize
                    : scheme != GatingScheme.SOFTMAX_TOPK && scheme != GatingScheme.ORT_MOE;
        }
        if (scheme == GatingScheme.SOFTMAX_TOPK && norm) {
            scheme = GatingScheme.SOFTMAX_TOPK_RENORM; // a model_type preset with norm_topk_prob=true
        } else if (scheme == GatingScheme.SOFTMAX_TOPK_RENORM && !norm && !o.has("scheme")) {
            scheme = GatingScheme.SOFTMAX_TOPK;
        }
        checkNormalize(scheme, norm, "gating");
        int groups = Math.max(1, firstInt(o, "n_group", "num_groups"));
        int topkGroups = firstInt(o, "topk_group", "topk_groups");
        double scale = o.has("routed_scaling_factor") ? o.get("routed_scaling_factor").getAsDouble() : 1.0;
        double[][] bias = null;
        if (o.has("e_score_correction_bias") && !o.get("e_score_correction_bias").isJsonNull()) {
            JsonArray a = o.getAsJsonArray("e_score_correction_bias");
            if (a.size() > 0 && a.get(0).isJsonArray()) {
                bias = new double[a.size()][];
                for (int i = 0; i < a.size(); i++) {
                    bias[i] = doubles(a.get(i).getAsJsonArray());
                }
            } else {
                bias = new double[][]{doubles(a)};
            }
        }
        if (bias == null && o.has("selection_bias_values") && o.get("selection_bias_values").isJsonObject()) {
            bias = perLayerRows(o.getAsJsonObject("selection_bias_values"), e);
        }
        return new GatingConfig(scheme, e, k, norm, groups, topkGroups <= 0 ? groups : topkGroups, scale, bias);
    }

    /**
     * moescope's export sidecar keys the selection bias by decoder layer ({@code {"1": [...], "2": [...]}}, only MoE
     * layers); rows are indexed by layer, and dense layers, which never route, get zeros.
     */
    private static double[][] perLayerRows(JsonObject byLayer, int experts) {
        int layers = 0;
        for (String key : byLayer.keySet()) {
            layers = Math.max(layers, Integer.parseInt(key) + 1);
        }
        double[][] rows = new double[layers][];
        for (int l = 0; l < layers; l++) {
            JsonElement row = byLayer.get(Integer.toString(l));
            rows[l] = row == null ? new double[experts] : doubles(row.getAsJsonArray());
        }
        return rows;
    }

    private static void checkNormalize(GatingScheme scheme, boolean norm, String where) {
        if ((scheme == GatingScheme.SOFTMAX_TOPK && norm) || (scheme == GatingScheme.SOFTMAX_TOPK_RENORM && !norm)
                || (scheme == GatingScheme.TOPK_SOFTMAX && !norm)) {
            throw MoescopeException.usage(where + ": normalize=" + norm + " contradicts scheme " + scheme.id());
        }
    }

    private static double[] doubles(JsonArray a) {
        double[] d = new double[a.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = a.get(i).getAsDouble();
        }
        return d;
    }

    private static int firstInt(JsonObject o, String... keys) {
        for (String key : keys) {
            if (o.has(key) && !o.get(key).isJsonNull()) {
                return o.get(key).getAsInt();
            }
        }
        return 0;
    }

    private static int intOpt(String v, int dflt, String text) {
        if (v == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw MoescopeException.usage("--gating: '" + v + "' is not an integer in '" + text + "'");
        }
    }

    private static double doubleOpt(String v, String text) {
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw MoescopeException.usage("--gating: '" + v + "' is not a number in '" + text + "'");
        }
    }

    private static boolean boolOpt(String v, boolean dflt) {
        if (v == null) {
            return dflt;
        }
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "1", "yes" -> true;
            case "false", "0", "no" -> false;
            default -> throw MoescopeException.usage("--gating: normalize must be true or false, got '" + v + "'");
        };
    }

    /** Hugging Face model types and the gating they use (spec §3.7). */
    private enum Preset {
        MIXTRAL("mixtral", GatingScheme.SOFTMAX_TOPK_RENORM, 2, true),
        QWEN3_MOE("qwen3_moe", GatingScheme.SOFTMAX_TOPK_RENORM, 8, true),
        QWEN2_MOE("qwen2_moe", GatingScheme.SOFTMAX_TOPK, 4, false),
        OLMOE("olmoe", GatingScheme.SOFTMAX_TOPK, 8, false),
        DEEPSEEK_V1("deepseek", GatingScheme.SOFTMAX_TOPK, 6, false),
        DEEPSEEK_V3("deepseek_v3", GatingScheme.SIGMOID_GROUPED, 8, true),
        GPT_OSS("gpt_oss", GatingScheme.TOPK_SOFTMAX, 4, true),
        GRANITEMOE("granitemoe", GatingScheme.TOPK_SOFTMAX, 0, true);

        final String modelType;
        final GatingScheme scheme;
        final int defaultK;
        final boolean normalize;

        Preset(String modelType, GatingScheme scheme, int defaultK, boolean normalize) {
            this.modelType = modelType;
            this.scheme = scheme;
            this.defaultK = defaultK;
            this.normalize = normalize;
        }

        static Preset lookup(String name) {
            String n = name.strip().toLowerCase(Locale.ROOT).replace('-', '_');
            for (Preset p : values()) {
                if (p.modelType.equals(n)) {
                    return p;
                }
            }
            return null;
        }
    }
}
