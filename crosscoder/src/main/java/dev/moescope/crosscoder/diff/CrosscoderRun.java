package dev.moescope.crosscoder.diff;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.Json;
import dev.moescope.crosscoder.train.SelectionWeighting;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run directory written by {@code moescope crosscoder train}: the weights ({@value #WEIGHTS}), the training
 * options ({@value #CONFIG}: k, designated shared count, selection weighting, seed) and what it was trained on
 * (the {@code provenance} parameters of the weights' metadata, else of {@value #SUMMARY}: {@code store.i},
 * {@code hook.i}, {@code validation_fraction}, {@code seed}).
 *
 * @param dir                the run directory
 * @param weights            the crosscoder
 * @param k                  the training k (batch top-k winners per token)
 * @param shared             designated shared latents (the first {@code shared})
 * @param selection          how decoder norms weighted the selection ranking (and so θ)
 * @param seed               the seed of the document split (the paired source's recorded seed, else the config's)
 * @param stores             the stores it was trained on, in source order (empty for synthetic training)
 * @param hooks              the hook of each store
 * @param validationFraction share of documents training held out, or NaN when it held none (synthetic data)
 * @param trainedOn          the recorded source parameters, for provenance
 */
public record CrosscoderRun(Path dir, CrosscoderWeights weights, int k, int shared, SelectionWeighting selection,
                            long seed, List<Path> stores, List<String> hooks, double validationFraction,
                            Map<String, String> trainedOn) {

    public static final String WEIGHTS = "crosscoder.safetensors";
    public static final String CONFIG = "cfg.json";
    public static final String SUMMARY = "summary.json";

    /** Opens and checks {@code dir}; anything missing or inconsistent is bad input naming the file. */
    public static CrosscoderRun open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw MoescopeException.badInput(dir, "no such run directory (expected the --out of `crosscoder train`)");
        }
        if (!Files.exists(dir.resolve(WEIGHTS))) { // a directory, but another command's output: say what is expected
            throw MoescopeException.badInput(dir.resolve(WEIGHTS),
                    "file not found (is this a `crosscoder train` output directory?)");
        }
        CrosscoderWeights w = CrosscoderWeights.read(dir.resolve(WEIGHTS));
        Path cfgFile = dir.resolve(CONFIG);
        JsonObject cfg = Json.read(cfgFile, JsonObject.class);
        JsonObject c = cfg.has("config") && cfg.get("config").isJsonObject() ? cfg.getAsJsonObject("config") : null;
        if (c == null) {
            throw MoescopeException.badInput(cfgFile, "no \"config\" object (not written by `crosscoder train`?)");
        }
        int k = intField(cfgFile, c, "k");
        int shared = intField(cfgFile, c, "shared");
        long seed = c.has("seed") ? c.get("seed").getAsLong() : 0;
        SelectionWeighting sel;
        try {
            sel = SelectionWeighting.valueOf(c.get("selection").getAsString());
        } catch (RuntimeException e) {
            throw MoescopeException.badInput(cfgFile, "config.selection missing or not one of "
                    + java.util.Arrays.toString(SelectionWeighting.values()));
        }
        if (k < 1 || k >= w.latents()) {
            throw MoescopeException.badInput(cfgFile, "config.k is " + k + ", not in [1, " + w.latents() + ")");
        }
        if (shared < 0 || shared > w.latents()) {
            throw MoescopeException.badInput(cfgFile, "config.shared is " + shared + ", not in [0, " + w.latents()
                    + "] (the weights have " + w.latents() + " latents)");
        }
        if (c.has("latents") && c.get("latents").getAsInt() != w.latents()) {
            throw MoescopeException.badInput(cfgFile, "config.latents is " + c.get("latents").getAsInt()
                    + " but " + w.file().getFileName() + " has " + w.latents() + " latents");
        }
        Map<String, String> params = trainingParameters(dir, w);
        List<Path> stores = new ArrayList<>();
        List<String> hooks = new ArrayList<>();
        for (int s = 0; params.containsKey("store." + s); s++) {
            stores.add(Path.of(params.get("store." + s)));
            hooks.add(params.getOrDefault("hook." + s, ""));
        }
        if (!stores.isEmpty() && stores.size() != w.sources()) {
            throw MoescopeException.badInput(dir.resolve(WEIGHTS), "records " + stores.size() + " stores but holds "
                    + w.sources() + " sources");
        }
        if (params.containsKey("seed")) { // the paired source's seed draws the document split
            try {
                seed = Long.parseLong(params.get("seed"));
            } catch (NumberFormatException e) {
                throw MoescopeException.badInput(w.file(), "provenance parameter seed is not a number: "
                        + params.get("seed"));
            }
        }
        double fraction = Double.NaN;
        if (params.containsKey("validation_fraction")) {
            try {
                fraction = Double.parseDouble(params.get("validation_fraction"));
            } catch (NumberFormatException e) {
                throw MoescopeException.badInput(w.file(), "provenance parameter validation_fraction is not a number: "
                        + params.get("validation_fraction"));
            }
            if (!(fraction >= 0 && fraction < 1)) {
                throw MoescopeException.badInput(w.file(), "provenance parameter validation_fraction " + fraction
                        + " is not in [0, 1)");
            }
        }
        return new CrosscoderRun(dir, w, k, shared, sel, seed, List.copyOf(stores), List.copyOf(hooks), fraction,
                params);
    }

    private static int intField(Path file, JsonObject o, String name) {
        JsonElement e = o.get(name);
        if (e == null || !e.isJsonPrimitive()) {
            throw MoescopeException.badInput(file, "config." + name + " is missing");
        }
        return e.getAsInt();
    }

    /** The training provenance parameters: from the weights' metadata, else summary.json, else none. */
    private static Map<String, String> trainingParameters(Path dir, CrosscoderWeights w) {
        JsonObject prov = null;
        String meta = w.metadata().get("provenance");
        if (meta != null) {
            try {
                prov = Json.gson().fromJson(meta, JsonObject.class);
            } catch (RuntimeException e) {
                throw MoescopeException.badInput(w.file(), "malformed provenance metadata: " + e.getMessage());
            }
        } else if (Files.exists(dir.resolve(SUMMARY))) {
            JsonObject s = Json.read(dir.resolve(SUMMARY), JsonObject.class);
            prov = s.has("provenance") ? s.getAsJsonObject("provenance") : null;
        }
        Map<String, String> out = new LinkedHashMap<>();
        if (prov != null && prov.has("parameters") && prov.get("parameters").isJsonObject()) {
            for (Map.Entry<String, JsonElement> e : prov.getAsJsonObject("parameters").entrySet()) {
                if (e.getValue().isJsonPrimitive()) {
                    out.put(e.getKey(), e.getValue().getAsString());
                }
            }
        }
        return out;
    }

    /** Whether training held documents out (so the diff should read only those). */
    public boolean heldOutDocuments() {
        return !Double.isNaN(validationFraction) && validationFraction > 0;
    }

    /** The per-latent selection weights of the inference rule, or null for {@link SelectionWeighting#NONE}. */
    public float[] rankScale() {
        if (selection == SelectionWeighting.NONE) {
            return null;
        }
        int n = weights.sources();
        double[][] norms = new double[n][];
        for (int s = 0; s < n; s++) {
            norms[s] = weights.decoderNorms(s);
        }
        float[] w = new float[weights.latents()];
        double[] one = new double[n];
        for (int i = 0; i < w.length; i++) {
            for (int s = 0; s < n; s++) {
                one[s] = norms[s][i];
            }
            w[i] = selection.weight(one);
        }
        return w;
    }
}
