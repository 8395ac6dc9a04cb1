package dev.moescope.probe.reproduce;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.probe.analysis.ExpertLoad;
import dev.moescope.probe.analysis.RoutingAnalysis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Targets 1 and 2: released per-expert routing counts fed through {@link RoutingAnalysis} (specialisation
 * {@code N_{E,D}/N_D}, normalised load entropy, CV, experts above 2× uniform), tabulated per model, domain and
 * layer, and checked against what the papers report.
 */
final class RoutingCountsReproduction {

    /**
     * The largest bar per domain and layer of the domain-specialisation figure released with OLMoE's analysis
     * code ({@code scripts/routing_olmoe_v2.jpg} in allenai/OLMoE, the paper's figure), in percent, read by
     * pixel measurement of bar tops against the 0 and 100 gridlines. Only panels whose bars separate cleanly in
     * the image are listed; ±2 points covers the reading.
     */
    static final Object[][] OLMOE_FIGURE_MAX_BAR = {
        {"arxiv", 0, 97.8}, {"arxiv", 7, 78.5}, {"arxiv", 15, 93.9},
        {"github", 0, 62.8}, {"github", 7, 77.2},
        {"wikipedia", 0, 77.3}, {"wikipedia", 7, 84.5},
        {"book", 7, 49.7},
        {"c4", 7, 33.0}, {"c4", 15, 30.7},
    };
    static final double FIGURE_TOLERANCE_POINTS = 2.0;

    /** OLMoE's five pretraining-analysis domains (file names of the released pickles). */
    static final List<String> OLMOE_DOMAINS = List.of("arxiv", "github", "c4", "book", "wikipedia");

    /**
     * Corpus sizes in DeepSeek tokens (Σ counts / 6) that the probe spec (§1.2) states, rounded to thousands:
     * a check that the counts are whole and k is 6.
     */
    static final Map<String, Integer> LENS_CORPUS_KTOKENS = Map.of("english", 197, "github", 170, "french-qa", 128,
            "chinese", 119, "aime-math", 105, "arxiv", 103, "gsm8k", 97);

    /** MoE Lens main-text routing domains, plus Chinese (spec §7 target 1). */
    static final List<String> LENS_CLAIM_DOMAINS = List.of("english", "french-qa", "gsm8k", "chinese");

    private RoutingCountsReproduction() {
    }

    /** Target 1: MoE Lens's released DeepSeek-MoE-16B counts (and any other counts files beside them). */
    static Reproduction deepseek(Path data, Path reference) {
        Reproduction r = new Reproduction(ReproductionTarget.DEEPSEEK_ROUTING);
        List<ExpertCounts> all = load(data, r);
        List<ExpertCounts> deepseek = all.stream().filter(c -> c.model().startsWith("deepseek")).toList();
        if (deepseek.isEmpty()) {
            throw MoescopeException.badInput(data, "no counts file of a deepseek model (converted from MoE Lens's "
                    + "data/routing/*_expert_data_deepseek-base.pt with released_counts.py moe-lens)");
        }
        for (ExpertCounts c : all) {
            RoutingAnalysis.Summary s = tabulate(r, c);
            compareWithReference(r, c, s, reference);
            if (!c.model().startsWith("deepseek")) {
                continue;
            }
            r.check(Check.within(c.label() + ": uniform share k/E (%)", 9.375, 100 * s.uniformShare(), 1e-12, 3));
            if (c.model().equals("deepseek-base")) {
                for (Map.Entry<String, Integer> e : new java.util.TreeMap<>(LENS_CORPUS_KTOKENS).entrySet()) {
                    if (c.domains().containsKey(e.getKey())) {
                        r.check(Check.within(c.label() + " " + e.getKey() + ": tokens, thousands (spec §1.2: Σ counts / k)",
                                e.getValue(), c.tokens(e.getKey()) / 1000.0, 0.5, 1));
                    }
                }
            }
            for (String d : LENS_CLAIM_DOMAINS) {
                RoutingAnalysis.DomainSummary ds = domain(s, d);
                if (ds == null) {
                    continue;
                }
                r.check(Check.claim(c.label() + " " + d + ": an expert takes > 50 % of the domain's tokens",
                        "\"very few experts handle over 50 % of routing decisions\"",
                        String.format(Locale.ROOT, "%d of %d layers; max %s (layer %d, expert %d)",
                                ds.layersWithExpertOverHalf(), c.layers().length, Table.pct(ds.maxShare()),
                                ds.maxShareLayer(), ds.maxShareExpert()),
                        ">= 1 layer", ds.layersWithExpertOverHalf() >= 1));
            }
        }
        r.show("domain_summary");
        r.note("Specialisation = count / tokens with tokens = assignments / k (every token has exactly k experts); "
                + "MoE Lens's plots divide by the token count of the whole file tokenised at once, which differs "
                + "slightly from the sum over its <=4096-token chunks.");
        r.note("The paper's \">50 %\" is read as one expert chosen for more than half of a domain's tokens at a layer "
                + "(spec §1.4).");
        return r;
    }

    /** Target 2: OLMoE's released OLMoE-1B-7B and Mixtral-8x7B counts at layers 0, 7, 15. */
    static Reproduction olmoe(Path data, Path reference) {
        Reproduction r = new Reproduction(ReproductionTarget.OLMOE_ROUTING);
        List<ExpertCounts> all = load(data, r);
        ExpertCounts olmoe = find(all, "olmoe", data);
        ExpertCounts mixtral = all.stream().filter(c -> isReleasedOlmoeLayout(c)
                && (c.model().equals("mixtral") || c.model().equals("mistral"))).findFirst()
                .orElseThrow(() -> MoescopeException.badInput(data, "no top-k counts file of model mixtral with "
                        + "layers 0, 7, 15 (OLMoE's scripts/routing_output/mistral/expert_counts)"));
        for (ExpertCounts c : all) {
            RoutingAnalysis.Summary s = tabulate(r, c);
            compareWithReference(r, c, s, reference);
            if (c == olmoe) {
                olmoeChecks(r, c, s);
            } else if (c == mixtral) {
                mixtralChecks(r, c, s);
            }
        }
        r.show("domain_layer_max");
        r.note("Figure values are the tallest bar of each panel of OLMoE's released figure routing_olmoe_v2.jpg, "
                + "measured in pixels; the figure plots count / total × k × 100 = our share.");
        r.note("Mixtral's layers are 0, 7 and 15 of 32, as OLMoE's script records them for both models.");
        return r;
    }

    private static void olmoeChecks(Reproduction r, ExpertCounts c, RoutingAnalysis.Summary s) {
        r.check(Check.within("OLMoE uniform share k/E (%)", 12.5, 100 * s.uniformShare(), 1e-12, 3));
        for (String d : OLMOE_DOMAINS) {
            r.check(Check.within("OLMoE " + d + " tokens", 208_896, c.tokens(d), 0, 0));
        }
        for (Object[] f : OLMOE_FIGURE_MAX_BAR) {
            String d = (String) f[0];
            int layer = (Integer) f[1];
            RoutingAnalysis.LoadMetrics m = layerMetrics(s, layer, d);
            r.check(Check.within(String.format(Locale.ROOT, "OLMoE %s layer %d: largest expert share (%%), ours expert %d",
                    d, layer, m.largestExpert()), (Double) f[2], 100 * m.largestShare(), FIGURE_TOLERANCE_POINTS, 1));
        }
        // "Domain specialisation strong for arXiv and GitHub, weak for C4" (spec §2.1, from the paper's text)
        boolean c4Lowest = true;
        StringBuilder c4 = new StringBuilder();
        for (int layer : new int[]{0, 7, 15}) {
            double c4Max = layerMetrics(s, layer, "c4").largestShare();
            double others = OLMOE_DOMAINS.stream().filter(d -> !d.equals("c4"))
                    .mapToDouble(d -> layerMetrics(s, layer, d).largestShare()).min().orElseThrow();
            c4Lowest &= c4Max < others;
            c4.append(String.format(Locale.ROOT, "%sL%d %s vs next %s", c4.length() == 0 ? "" : "; ", layer,
                    Table.pct(c4Max), Table.pct(others)));
        }
        r.check(Check.claim("OLMoE: C4 the least specialised domain", "weak specialisation for C4", c4.toString(),
                "C4's largest share lowest of 5 domains at layers 0, 7, 15", c4Lowest));
        for (String d : List.of("arxiv", "github")) {
            double min = Arrays.stream(new int[]{0, 7, 15}).mapToDouble(l -> layerMetrics(s, l, d).largestShare())
                    .min().orElseThrow();
            r.check(Check.claim("OLMoE " + d + ": specialised experts at every layer",
                    "strong specialisation for arXiv and GitHub", "smallest per-layer largest share " + Table.pct(min),
                    "> 2 × uniform (25 %) at layers 0, 7, 15", min > 2 * s.uniformShare()));
        }
    }

    private static void mixtralChecks(Reproduction r, ExpertCounts c, RoutingAnalysis.Summary s) {
        r.check(Check.within("Mixtral uniform share k/E (%)", 25.0, 100 * s.uniformShare(), 1e-12, 3));
        double max = 0;
        String where = "";
        double minEntropy = 1;
        for (String d : OLMOE_DOMAINS) {
            for (int layer : new int[]{0, 7, 15}) {
                RoutingAnalysis.LoadMetrics m = layerMetrics(s, layer, d);
                if (m.largestShare() > max) {
                    max = m.largestShare();
                    where = String.format(Locale.ROOT, "%s layer %d expert %d", d, layer, m.largestExpert());
                }
                minEntropy = Math.min(minEntropy, m.normalizedEntropy());
            }
        }
        r.check(Check.claim("Mixtral: largest expert share over 5 domains × layers 0/7/15",
                "near uniform (bars at the 25 % line)", Table.pct(max) + " (" + where + ")", "< 1.5 × uniform (37.5 %)",
                max < 1.5 * s.uniformShare()));
        r.check(Check.claim("Mixtral: normalised load entropy, lowest of 15 domain-layers", "near uniform",
                String.format(Locale.ROOT, "%.4f", minEntropy), ">= 0.98", minEntropy >= 0.98));
    }

    /** Reads a counts file, or every counts file of a directory (other files are ignored). */
    static List<ExpertCounts> load(Path data, Reproduction r) {
        List<Path> files;
        if (Files.isDirectory(data)) {
            try (Stream<Path> s = Files.list(data)) {
                files = s.filter(p -> p.toString().endsWith(".json")).sorted().filter(ExpertCounts::isCountsFile)
                        .toList();
            } catch (IOException e) {
                throw MoescopeException.badInput(data, "cannot list: " + e.getMessage(), e);
            }
            if (files.isEmpty()) {
                throw MoescopeException.badInput(data, "no " + ExpertCounts.FORMAT + " JSON files here (convert "
                        + "released counts with checkpoint-probe/export: python3 -m moescope_export.released_counts)");
            }
        } else {
            files = List.of(data);
        }
        List<ExpertCounts> out = new ArrayList<>();
        for (Path f : files) {
            out.add(ExpertCounts.read(f));
            r.input(f);
        }
        return out;
    }

    private static boolean isReleasedOlmoeLayout(ExpertCounts c) {
        return c.selection().equals("top-k") && Arrays.equals(c.layers(), new int[]{0, 7, 15})
                && c.domains().keySet().containsAll(OLMOE_DOMAINS);
    }

    private static ExpertCounts find(List<ExpertCounts> all, String model, Path data) {
        return all.stream().filter(c -> isReleasedOlmoeLayout(c) && c.model().equals(model)).findFirst()
                .orElseThrow(() -> MoescopeException.badInput(data, "no top-k counts file of model " + model
                        + " with layers 0, 7, 15 and domains " + OLMOE_DOMAINS
                        + " (OLMoE's scripts/routing_output/olmoe/expert_counts)"));
    }

    /** Adds the model's rows to the shared tables and the figures; returns the analysis summary. */
    static RoutingAnalysis.Summary tabulate(Reproduction r, ExpertCounts c) {
        RoutingAnalysis a = c.analysis();
        RoutingAnalysis.Summary s = a.summary();
        Table shares = r.tables().computeIfAbsent("expert_share",
                n -> new Table("model", "selection", "domain", "layer", "expert", "count", "share"));
        Table layers = r.tables().computeIfAbsent("layer_load", n -> new Table("model", "selection", "domain",
                "layer", "tokens", "largest_share", "largest_expert", "normalized_entropy", "coefficient_of_variation",
                "max_over_mean", "experts_covering_50pct", "experts_above_2x_uniform", "dead_experts"));
        Table domains = r.tables().computeIfAbsent("domain_summary", n -> new Table("model", "selection", "domain",
                "tokens", "max_share", "max_share_layer", "max_share_expert", "median_layer_max_share",
                "layers_with_expert_over_half", "layers", "mean_experts_above_2x_uniform", "mean_normalized_entropy",
                "mean_cv"));
        Table maxes = r.tables().computeIfAbsent("domain_layer_max", n -> new Table("model", "domain", "layer",
                "largest_share", "largest_expert", "normalized_entropy"));
        for (String d : c.domains().keySet()) {
            for (int layer : c.layers()) {
                ExpertLoad l = a.load(layer, d);
                for (int e = 0; e < c.numExperts(); e++) {
                    shares.row(c.model(), c.selection(), d, layer, e, l.count(e), l.share(e));
                }
                RoutingAnalysis.LoadMetrics m = layerMetrics(s, layer, d);
                layers.row(c.model(), c.selection(), d, layer, m.tokens(), m.largestShare(), m.largestExpert(),
                        m.normalizedEntropy(), m.coefficientOfVariation(), m.maxOverMean(), m.expertsCovering50pct(),
                        m.expertsAbove2xUniform(), m.deadExperts());
                if (c.layers().length <= 3) {
                    maxes.row(c.label(), d, layer, m.largestShare(), m.largestExpert(), m.normalizedEntropy());
                }
            }
            RoutingAnalysis.DomainSummary ds = domain(s, d);
            domains.row(c.model(), c.selection(), d, ds.tokens(), ds.maxShare(), ds.maxShareLayer(),
                    ds.maxShareExpert(), ds.medianLayerMaxShare(), ds.layersWithExpertOverHalf(), c.layers().length,
                    ds.meanExpertsAbove2xUniform(), ds.meanNormalizedEntropy(), ds.meanCv());
        }
        Map<String, Object> fig = new LinkedHashMap<>();
        fig.put("file", c.file().toString());
        fig.put("numExperts", c.numExperts());
        fig.put("topK", c.topK());
        fig.put("uniformShare", s.uniformShare());
        fig.put("source", c.source());
        fig.put("domains", s.domains().stream().filter(d -> !d.domain().equals("all")).toList());
        r.figure(c.label(), fig);
        return s;
    }

    static RoutingAnalysis.LoadMetrics layerMetrics(RoutingAnalysis.Summary s, int layer, String domain) {
        return s.layers().stream().filter(l -> l.layer() == layer).findFirst()
                .map(l -> l.byDomain().get(domain)).orElseThrow(() -> new IllegalStateException(
                        "no layer " + layer + " / domain " + domain));
    }

    static RoutingAnalysis.DomainSummary domain(RoutingAnalysis.Summary s, String d) {
        return s.domains().stream().filter(x -> x.domain().equals(d)).findFirst().orElse(null);
    }

    /**
     * With {@code --reference DIR}: compares every figure with {@code DIR/<name>.metrics.json}, the numpy
     * recomputation written by {@code released_counts.py metrics} from the same JSON. Shares, entropies and CVs
     * must agree to 1e-12; expert ids, layers and counts of layers exactly.
     */
    static void compareWithReference(Reproduction r, ExpertCounts c, RoutingAnalysis.Summary s, Path referenceDir) {
        if (referenceDir == null) {
            return;
        }
        String name = c.file().getFileName().toString().replaceFirst("\\.json$", "") + ".metrics.json";
        Path file = referenceDir.resolve(name);
        JsonObject ref;
        try {
            JsonElement e = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8));
            ref = e.getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw MoescopeException.badInput(file, "cannot read the numpy reference for " + c.file().getFileName()
                    + ": " + e.getMessage(), e);
        }
        double maxDiff = 0;
        List<String> mismatches = new ArrayList<>();
        for (String d : c.domains().keySet()) {
            JsonObject rd = ref.getAsJsonObject(d);
            if (rd == null) {
                mismatches.add(d + " missing");
                continue;
            }
            RoutingAnalysis.DomainSummary ds = domain(s, d);
            maxDiff = Math.max(maxDiff, Math.abs(ds.maxShare() - rd.get("maxShare").getAsDouble()));
            maxDiff = Math.max(maxDiff, Math.abs(ds.meanNormalizedEntropy() - rd.get("meanNormalizedEntropy").getAsDouble()));
            maxDiff = Math.max(maxDiff, Math.abs(ds.meanCv() - rd.get("meanCv").getAsDouble()));
            if (ds.maxShareLayer() != rd.get("maxShareLayer").getAsInt()
                    || ds.layersWithExpertOverHalf() != rd.get("layersWithExpertOverHalf").getAsInt()) {
                mismatches.add(d + " layer figures");
            }
            JsonArray rl = rd.getAsJsonArray("layers");
            for (JsonElement el : rl) {
                JsonObject o = el.getAsJsonObject();
                int layer = o.get("layer").getAsInt();
                RoutingAnalysis.LoadMetrics m = layerMetrics(s, layer, d);
                maxDiff = Math.max(maxDiff, Math.abs(m.largestShare() - o.get("largestShare").getAsDouble()));
                maxDiff = Math.max(maxDiff, Math.abs(m.normalizedEntropy() - o.get("normalizedEntropy").getAsDouble()));
                maxDiff = Math.max(maxDiff, Math.abs(m.coefficientOfVariation()
                        - o.get("coefficientOfVariation").getAsDouble()));
                if (m.largestExpert() != o.get("largestExpert").getAsInt()
                        || m.expertsAbove2xUniform() != o.get("expertsAbove2xUniform").getAsInt()
                        || m.tokens() != Math.round(o.get("tokens").getAsDouble())) {
                    mismatches.add(d + " layer " + layer);
                }
            }
        }
        r.input(file);
        r.check(new Check(c.label() + ": every figure vs independent numpy recomputation",
                "released_counts.py metrics", String.format(Locale.ROOT, "max |Δ| %.1e%s", maxDiff,
                mismatches.isEmpty() ? "" : "; differs: " + String.join(", ", mismatches)),
                "1e-12, ids exact", Check.Status.of(maxDiff <= 1e-12 && mismatches.isEmpty())));
    }
}
