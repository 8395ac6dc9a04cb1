package dev.moescope.probe.reproduce;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.probe.analysis.RoutingAnalysis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Released per-expert routing counts in the {@code moescope-expert-counts/1} JSON format (written by
 * {@code checkpoint-probe/export/moescope_export/released_counts.py} from OLMoE's pickles or MoE Lens's
 * {@code .pt} files): for each domain and released layer, how many tokens had each expert among the
 * {@code topK} counted. A domain's token count is {@code Σ counts / topK}, the same at every layer.
 *
 * @param file       where it was read from
 * @param model      the released model's label ({@code olmoe}, {@code mixtral}, {@code deepseek-base}, ...)
 * @param selection  {@code top-k} (every expert of a token's top-k counted) or {@code top-1}
 * @param numExperts E
 * @param topK       experts counted per token (1 for {@code top-1})
 * @param modelTopK  the model's routing k
 * @param layers     layer numbers as released
 * @param domains    per domain, one E-array of counts per entry of {@code layers}
 * @param source     where the counts came from (repository, commit, licence, per-file SHA-256), as released
 */
public record ExpertCounts(Path file, String model, String selection, int numExperts, int topK, int modelTopK,
                           int[] layers, Map<String, long[][]> domains, JsonObject source) {

    /** The format tag every counts file carries. */
    public static final String FORMAT = "moescope-expert-counts/1";

    public ExpertCounts {
        domains = Collections.unmodifiableMap(new LinkedHashMap<>(domains));
    }

    /** Reads and validates a counts file; any problem is one bad-input line naming the file. */
    public static ExpertCounts read(Path file) {
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8));
            if (!e.isJsonObject()) {
                throw MoescopeException.badInput(file, "not a JSON object");
            }
            o = e.getAsJsonObject();
        } catch (NoSuchFileException e) {
            throw MoescopeException.badInput(file, "file not found");
        } catch (IOException e) {
            throw MoescopeException.badInput(file, "cannot read: " + e.getMessage(), e);
        } catch (JsonParseException e) {
            throw MoescopeException.badInput(file, "malformed JSON: " + e.getMessage(), e);
        }
        try {
            return parse(file, o);
        } catch (ClassCastException | IllegalStateException | NullPointerException | NumberFormatException
                 | UnsupportedOperationException e) {
            throw MoescopeException.badInput(file, "not a " + FORMAT + " document (" + e.getMessage() + ")", e);
        }
    }

    /** True when {@code file} is a JSON object tagged with {@link #FORMAT} (for picking counts out of a folder). */
    public static boolean isCountsFile(Path file) {
        try {
            JsonElement e = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8));
            return e.isJsonObject() && e.getAsJsonObject().has("format")
                    && FORMAT.equals(e.getAsJsonObject().get("format").getAsString());
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static ExpertCounts parse(Path file, JsonObject o) {
        String format = o.has("format") ? o.get("format").getAsString() : "(none)";
        if (!FORMAT.equals(format)) {
            throw MoescopeException.badInput(file, "format is " + format + ", expected " + FORMAT);
        }
        String model = o.get("model").getAsString();
        String selection = o.get("selection").getAsString();
        if (!selection.equals("top-k") && !selection.equals("top-1")) {
            throw MoescopeException.badInput(file, "selection must be top-k or top-1, not " + selection);
        }
        int e = o.get("numExperts").getAsInt();
        int k = o.get("topK").getAsInt();
        int modelK = o.has("modelTopK") ? o.get("modelTopK").getAsInt() : k;
        if (e < 1 || k < 1 || k > e || modelK < k || modelK > e) {
            throw MoescopeException.badInput(file, "need 1 <= topK <= modelTopK <= numExperts, got topK " + k
                    + ", modelTopK " + modelK + ", numExperts " + e);
        }
        JsonArray ls = o.getAsJsonArray("layers");
        int[] layers = new int[ls.size()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = ls.get(i).getAsInt();
        }
        if (layers.length == 0 || Arrays.stream(layers).distinct().count() != layers.length) {
            throw MoescopeException.badInput(file, "layers must be a non-empty list without repeats");
        }
        Map<String, long[][]> domains = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> d : o.getAsJsonObject("domains").entrySet()) {
            JsonArray perLayer = d.getValue().getAsJsonArray();
            if (perLayer.size() != layers.length) {
                throw MoescopeException.badInput(file, "domain " + d.getKey() + " has " + perLayer.size()
                        + " layers of counts, the file lists " + layers.length);
            }
            long[][] counts = new long[layers.length][];
            long tokens = -1;
            for (int l = 0; l < layers.length; l++) {
                JsonArray c = perLayer.get(l).getAsJsonArray();
                if (c.size() != e) {
                    throw MoescopeException.badInput(file, "domain " + d.getKey() + " layer " + layers[l] + " has "
                            + c.size() + " counts, expected " + e);
                }
                counts[l] = new long[e];
                long sum = 0;
                long max = 0;
                for (int x = 0; x < e; x++) {
                    counts[l][x] = c.get(x).getAsLong();
                    if (counts[l][x] < 0) {
                        throw MoescopeException.badInput(file, "domain " + d.getKey() + " layer " + layers[l]
                                + ": negative count");
                    }
                    sum += counts[l][x];
                    max = Math.max(max, counts[l][x]);
                }
                if (sum % k != 0) {
                    throw MoescopeException.badInput(file, "domain " + d.getKey() + " layer " + layers[l] + ": " + sum
                            + " assignments is not a multiple of topK " + k);
                }
                if (tokens >= 0 && sum / k != tokens) {
                    throw MoescopeException.badInput(file, "domain " + d.getKey() + " layer " + layers[l] + " counts "
                            + sum / k + " tokens, earlier layers " + tokens);
                }
                tokens = sum / k;
                if (max > tokens) {
                    throw MoescopeException.badInput(file, "domain " + d.getKey() + " layer " + layers[l]
                            + ": an expert is counted " + max + " times over " + tokens + " tokens");
                }
            }
            domains.put(d.getKey(), counts);
        }
        if (domains.isEmpty()) {
            throw MoescopeException.badInput(file, "no domains");
        }
        JsonObject source = o.has("source") && o.get("source").isJsonObject() ? o.getAsJsonObject("source")
                : new JsonObject();
        return new ExpertCounts(file, model, selection, e, k, modelK, layers, domains, source);
    }

    /** Tokens of a domain: Σ counts / topK (validated equal at every layer). */
    public long tokens(String domain) {
        long s = 0;
        for (long c : domains.get(domain)[0]) {
            s += c;
        }
        return s / topK;
    }

    /** The uniform share of the counted selection, topK / E (k/E for top-k counts, 1/E for top-1). */
    public double uniformShare() {
        return (double) topK / numExperts;
    }

    /** The counts fed through the project's routing analyses (load metrics only: counts carry no token order). */
    public RoutingAnalysis analysis() {
        RoutingAnalysis a = new RoutingAnalysis(numExperts, topK, 1);
        for (Map.Entry<String, long[][]> d : domains.entrySet()) {
            long tokens = tokens(d.getKey());
            for (int l = 0; l < layers.length; l++) {
                a.acceptCounts(layers[l], d.getKey(), d.getValue()[l], tokens);
            }
        }
        return a;
    }

    /** A short label: model, and the selection when it is not top-k. */
    public String label() {
        return selection.equals("top-k") ? model : model + " (" + selection + ")";
    }
}
