package dev.moescope.cli.report;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Section 4: the fixture MoE probed: graph inspection, the MoE Lens top-k sweep and logit lens, the activation
 * stores, and the routing analysis (load concentration, domain specialisation, co-activation, consecutive tokens).
 */
final class ProbeSection {

    private ProbeSection() {
    }

    static void render(Html h, DemoRun run, TokenText text) {
        h.raw("<section id=\"probe\">").h(2, null, "4. Probing the MoE: lens and routing");
        h.p("The fixture MoE is a 4-layer transformer with 8 experts per layer and top-2 routing, trained with its "
                + "dense twin on four domains (code, fiction, news, science). moescope runs its ONNX export with ONNX "
                + "Runtime, finds the router and residual stream by graph surgery, and records routing and "
                + "activations per token.");
        inspect(h, run.stage(DemoReport.PROBE_INSPECT));
        lens(h, run.stage(DemoReport.PROBE_LENS));
        experts(h, run.stage(DemoReport.PROBE_EXPERTS));
        stores(h, run);
        routing(h, run.stage(DemoReport.PROBE_ANALYSIS));
        h.raw("</section>\n");
    }

    private static void inspect(Html h, DemoRun.Stage s) {
        h.h(3, "probe-inspect", "What graph surgery finds in the model");
        if (!ReportPage.require(h, s, "Graph inspection")) {
            return;
        }
        Doc spec = Doc.read(s.file("probe-spec.json"));
        h.p(String.format(Locale.ROOT, "%s MoE layers, %s experts, gating %s (found from: %s).",
                Svg.num(s.summary().num("layers")), Svg.num(s.summary().num("numExperts")),
                ReportPage.nz(s.summary().str("gating")), ReportPage.nz(s.summary().str("source"))));
        List<List<String>> rows = new ArrayList<>();
        for (Doc l : spec.list("layers")) {
            rows.add(List.of(Svg.num(l.num("layer")), ReportPage.nz(l.str("routerNode")),
                    ReportPage.nz(l.str("hooks.router_logits")), ReportPage.nz(l.str("hooks.resid_mid")),
                    ReportPage.nz(l.str("hooks.moe_out")), ReportPage.nz(l.str("hooks.resid_post"))));
        }
        if (!rows.isEmpty()) {
            h.table(List.of("layer", "router node", "router logits", "residual before MoE", "MoE output",
                    "residual after"), rows, 99);
        }
    }

    private static void experts(Html h, DemoRun.Stage s) {
        h.h(3, "probe-experts", "An expert is (almost) all you need? Single-expert approximation");
        if (!ReportPage.require(h, s, "Expert probe")) {
            return;
        }
        h.p("The selected experts are recomputed in Java from the model's weights (named in the export sidecar) and "
                + "checked against the graph's MoE output; then each layer's output is compared with a version that "
                + "keeps only the top-weighted expert (H\u00b9), under each weighting, and the logit lens is applied to "
                + "both. Look for: cosines near 1 where the residual stream dominates, and how often the top expert "
                + "alone decodes to the same next token.");
        ReportPage.listedFigures(h, s);
    }

    private static void lens(Html h, DemoRun.Stage s) {
        h.h(3, "probe-lens", "MoE Lens: how much do the other experts matter? (top-k sweep)");
        if (!ReportPage.require(h, s, "Top-k sweep")) {
            return;
        }
        Doc r = s.summary().get("report");
        int fullK = (int) r.num("fullK");
        h.p("The model is re-run with every router's top-k overridden (graph surgery on the TopK nodes). \"model "
                + "weighting\" keeps the model's own gate (renormalised over the chosen experts); \"raw\" uses the raw "
                + "softmax weights, as MoE Lens does. This model's gating: " + ReportPage.nz(r.str("singleExpertVariant"))
                + ".");
        Set<String> domains = new LinkedHashSet<>();
        Map<String, Map<String, Double>> ratio = new LinkedHashMap<>(); // variant label -> domain -> ratio
        Map<String, Doc> full = new LinkedHashMap<>();
        for (Doc p : r.list("perplexity")) {
            String domain = p.str("domain");
            domains.add(domain);
            int k = (int) p.num("k");
            String variant = p.str("variant");
            if (k == fullK && "model".equals(variant)) {
                full.put(domain, p);
                continue;
            }
            String label = "k=" + k + ("raw".equals(variant) ? ", raw weights" : ", model weighting");
            ratio.computeIfAbsent(label, x -> new LinkedHashMap<>()).put(domain, p.num("ratioToFullK"));
        }
        List<String> groups = new ArrayList<>(domains);
        List<String> series = new ArrayList<>(ratio.keySet());
        double[][] values = new double[series.size()][groups.size()];
        double min = 1;
        for (int i = 0; i < series.size(); i++) {
            for (int g = 0; g < groups.size(); g++) {
                values[i][g] = ratio.get(series.get(i)).getOrDefault(groups.get(g), Double.NaN);
                if (Double.isFinite(values[i][g])) {
                    min = Math.min(min, values[i][g]);
                }
            }
        }
        double floor = Math.floor(min * 20) / 20;
        h.figure(Svg.bars(new Svg.Axes("Perplexity with fewer active experts, relative to top-" + fullK,
                        "domain", "perplexity ÷ perplexity at top-" + fullK), groups, series, values, floor,
                        List.of(new Svg.RefLine(1.05, "MoE Lens claim: +5%"))),
                "Token-level perplexity of each variant divided by the model's own top-" + fullK + " perplexity, per "
                        + "domain (bars start at " + Svg.num(floor) + "). Look for: how far the top-1 bars rise above "
                        + "1 (MoE Lens reports about +5% for DeepSeek-MoE), and whether raw weights cost more than "
                        + "the model's renormalised weighting.");
        List<List<String>> rows = new ArrayList<>();
        for (String d : groups) {
            Doc f = full.get(d);
            List<String> row = new ArrayList<>(List.of(d, f == null ? "" : Svg.num(f.num("tokens")),
                    f == null ? "" : Svg.num(f.num("perplexity"))));
            for (String v : series) {
                row.add(Svg.num(ratio.get(v).getOrDefault(d, Double.NaN)));
            }
            rows.add(row);
        }
        List<String> headers = new ArrayList<>(List.of("domain", "tokens", "perplexity at top-" + fullK));
        series.forEach(v -> headers.add("ratio " + v));
        h.table(headers, rows, 1);
        h.png(s.file("cosine_and_lens_by_layer.png"), "residual cosine and logit lens by layer",
                "Per layer: mean cosine between the residual stream with fewer experts and the full top-" + fullK
                        + " one (near 1 = the other experts change little), and the logit lens, the share of tokens "
                        + "where decoding that layer's residual through the final norm and unembedding gives the "
                        + "model's own top-1 prediction. Look for: cosine staying high through depth, and lens "
                        + "agreement rising to 1 at the last layer.");
        ReportPage.listedFigures(h, s);
    }

    private static void stores(Html h, DemoRun run) {
        h.h(3, "probe-stores", "Activation stores: the MoE and its dense twin on the same tokens");
        List<List<String>> rows = new ArrayList<>();
        for (String key : List.of(DemoReport.STORE_MOE, DemoReport.STORE_DENSE)) {
            DemoRun.Stage s = run.stage(key);
            if (!ReportPage.require(h, s, "Store " + key)) {
                continue;
            }
            Doc d = s.summary();
            Doc manifest = Doc.read(s.file("manifest.json"));
            rows.add(List.of(ReportPage.nz(manifest.str("model.name")), String.join(", ",
                            d.list("hooks").stream().map(Doc::toString).toList()),
                    d.list("routedLayers").isEmpty() ? "not recorded" : d.list("routedLayers").size() + " layers",
                    Svg.num(d.num("documents")), Svg.num(d.num("tokens")), Svg.num(d.num("tokensPerSecond")),
                    d.num("graphTopKChecked") > 0 ? String.format(Locale.ROOT, "%.0f / %.0f",
                            d.num("graphTopKMismatches"), d.num("graphTopKChecked")) : "—"));
        }
        if (!rows.isEmpty()) {
            h.table(List.of("model", "hooks", "routing", "documents", "tokens", "tokens/s",
                    "top-k mismatches / checked"), rows, 3);
            h.p("Routing is re-derived in Java from the router logits and checked against the model's own TopK "
                    + "output on every token. Both stores hold the same token stream, so the crosscoder can pair "
                    + "them row by row.");
        }
    }

    private static void routing(Html h, DemoRun.Stage s) {
        h.h(3, "probe-routing", "Routing: load concentration and domain specialisation");
        if (!ReportPage.require(h, s, "Routing analysis")) {
            return;
        }
        Doc sum = s.summary().get("summary");
        double uniform = sum.num("uniformShare");
        List<Doc> layers = sum.list("layers");
        double[] x = layers.stream().mapToDouble(l -> l.num("layer")).toArray();
        List<Svg.Series> series = new ArrayList<>();
        series.add(new Svg.Series("all domains", x, layers.stream().mapToDouble(l -> l.num("load.largestShare"))
                .toArray()));
        List<String> domainNames = layers.isEmpty() ? List.of() : layers.get(0).keys("byDomain");
        for (String d : domainNames) {
            series.add(new Svg.Series(d, x, layers.stream().mapToDouble(l -> l.num("byDomain." + d + ".largestShare"))
                    .toArray()));
        }
        h.figure(Svg.lines(new Svg.Axes("Largest expert share per layer", "layer", "share of tokens"), false, series,
                        List.of(new Svg.RefLine(uniform, "uniform k/E = " + Svg.num(uniform)),
                                new Svg.RefLine(0.5, "half of all tokens"))),
                "The share of tokens whose top-" + Svg.num(sum.num("topK")) + " includes the busiest expert, per "
                        + "layer, over all tokens and per domain. Look for: lines well above the uniform share mean "
                        + "concentrated routing; a domain above one half means a single expert handles most of it.");
        List<List<String>> rows = new ArrayList<>();
        for (Doc l : layers) {
            rows.add(List.of(Svg.num(l.num("layer")), Svg.num(l.num("load.normalizedEntropy")),
                    Svg.num(l.num("load.coefficientOfVariation")), Svg.num(l.num("load.maxVio")),
                    Svg.num(l.num("load.largestShare")) + " (expert " + Svg.num(l.num("load.largestExpert")) + ")",
                    Svg.num(l.num("load.expertsCovering50pct")), Svg.num(l.num("consecutive.firstChoice")),
                    Svg.num(l.num("consecutive.firstChoiceRandom")), Svg.num(l.num("vocabulary.input")),
                    Svg.num(l.num("vocabulary.next"))));
        }
        h.table(List.of("layer", "load entropy (1 = balanced)", "CV", "MaxVio", "largest share",
                "experts for 50%", "same top-1 as next token", "chance", "vocab. spec. (input)",
                "vocab. spec. (next)"), rows, 1);
        h.p("Load entropy is the entropy of the expert histogram divided by log E; MaxVio is (max − mean)/mean load. "
                + "\"Same top-1 as next token\" is how often consecutive tokens share their first expert (chance 1/E). "
                + "Vocabulary specialisation: for each token id seen at least "
                + Svg.num(layers.isEmpty() ? Double.NaN : layers.get(0).num("vocabulary.minCount"))
                + " times, the share of its occurrences routed to its most frequent expert, averaged over ids "
                + "(for the input token, and for the next token).");
        specialisation(h, s, uniform);
        coactivation(h, s);
        ReportPage.listedFigures(h, s);
    }

    /** Co-activation N(i,j)/N(i) per layer (adjacent ranks, the definition OLMoE's figures use). */
    private static void coactivation(Html h, DemoRun.Stage s) {
        List<Map<String, String>> rows = Csv.read(s.file("coactivation.csv"));
        String definition = "adjacent-rank";
        if (rows.stream().noneMatch(r -> definition.equals(r.get("definition")))) {
            h.missing("Co-activation: coactivation.csv not found.");
            return;
        }
        h.h(4, null, "Co-activation: which experts are chosen together");
        Set<Integer> layers = new TreeSet<>();
        int experts = 0;
        double max = 0;
        for (Map<String, String> r : rows) {
            if (definition.equals(r.get("definition"))) {
                layers.add((int) Csv.num(r, "layer"));
                experts = Math.max(experts, 1 + (int) Math.max(Csv.num(r, "expert_i"), Csv.num(r, "expert_j")));
                max = Math.max(max, Csv.num(r, "coactivation"));
            }
        }
        List<String> names = new ArrayList<>();
        for (int e = 0; e < experts; e++) {
            names.add(Integer.toString(e));
        }
        h.raw("<div class=\"grid\">");
        for (int layer : layers) {
            double[][] v = new double[experts][experts];
            for (double[] r : v) {
                java.util.Arrays.fill(r, Double.NaN);
            }
            for (Map<String, String> r : rows) {
                if (definition.equals(r.get("definition")) && (int) Csv.num(r, "layer") == layer) {
                    v[(int) Csv.num(r, "expert_i")][(int) Csv.num(r, "expert_j")] = Csv.num(r, "coactivation");
                }
            }
            h.raw("<figure>").raw(Svg.heatmap("Layer " + layer, "expert i", "expert j", names, names, v, 0, max,
                    d -> String.format(Locale.ROOT, "%.0f", 100 * d), 0.5)).raw("</figure>");
        }
        h.raw("</div>");
        h.figure(Svg.colourBar("coactivation-scale", "share of expert i's tokens also routed to expert j (%)", 0,
                        max,
                        d -> String.format(Locale.ROOT, "%.0f%%", 100 * d)),
                "Per layer, N(i, j) / N(i): of the tokens routed to expert i (row), the percentage also routed to "
                        + "expert j (column), counting rank neighbours in the top-k as OLMoE's code does; the "
                        + "diagonal is empty. Look for: dark cells, pairs of experts that work together (with k = 2 "
                        + "and 8 experts, independent routing gives about 14%).");
    }

    /** Heatmaps of each domain's share per expert, one per layer, on one colour scale. */
    private static void specialisation(Html h, DemoRun.Stage s, double uniform) {
        List<Map<String, String>> load = Csv.read(s.file("expert_load.csv"));
        if (load.isEmpty()) {
            h.missing("Domain specialisation: expert_load.csv not found.");
            return;
        }
        h.h(4, null, "Domain specialisation per expert");
        Set<Integer> layers = new TreeSet<>();
        Set<String> domains = new LinkedHashSet<>();
        Set<Integer> experts = new TreeSet<>();
        double max = 0;
        for (Map<String, String> row : load) {
            layers.add((int) Csv.num(row, "layer"));
            domains.add(row.get("domain"));
            experts.add((int) Csv.num(row, "expert"));
            max = Math.max(max, Csv.num(row, "share"));
        }
        List<String> rowNames = new ArrayList<>(domains);
        List<String> colNames = experts.stream().map(String::valueOf).toList();
        h.raw("<div class=\"grid\">");
        for (int layer : layers) {
            double[][] v = new double[rowNames.size()][colNames.size()];
            for (double[] r : v) {
                java.util.Arrays.fill(r, Double.NaN);
            }
            for (Map<String, String> row : load) {
                if ((int) Csv.num(row, "layer") == layer) {
                    int col = colNames.indexOf(Integer.toString((int) Csv.num(row, "expert")));
                    v[rowNames.indexOf(row.get("domain"))][col] = Csv.num(row, "share");
                }
            }
            h.raw("<figure>").raw(Svg.heatmap("Layer " + layer, "domain", "expert", rowNames, colNames, v, 0, max,
                    d -> String.format(Locale.ROOT, "%.0f", 100 * d), 0.5)).raw("</figure>");
        }
        h.raw("</div>");
        h.figure(Svg.colourBar("specialisation-scale", "share of the domain's tokens routed to the expert (%)", 0,
                        max,
                        d -> String.format(Locale.ROOT, "%.0f%%", 100 * d)),
                "Per layer, the percentage of each domain's tokens whose top-k includes each expert (OLMoE's "
                        + "domain specialisation; uniform routing gives " + Svg.num(100 * uniform) + "% everywhere). "
                        + "Cells over 50% are outlined. Look for: rows that differ from the \"all\" row, experts a "
                        + "domain prefers, and whether specialisation grows with depth.");
    }
}
