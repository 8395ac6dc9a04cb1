package dev.moescope.probe.analysis;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.AtomicFiles;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.internal.chartpart.IChart;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a {@link RoutingAnalysis} to a directory: {@code summary.json} (provenance, metric definitions, every
 * summary figure), CSVs with the full tables, and PNG charts. Every file is written atomically.
 */
public final class ReportWriter {

    /** One line per metric, copied into summary.json so that the numbers explain themselves. */
    static final Map<String, String> DEFINITIONS = definitions();

    private ReportWriter() {
    }

    private static Map<String, String> definitions() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("share", "N_{E,D} / N_D: fraction of tokens with the expert in their top-k (OLMoE/MoE Lens specialisation); uniform = k/E");
        d.put("largestShare", "the largest share at a layer; > 0.5 means one expert takes over half the tokens (MoE Lens)");
        d.put("normalizedEntropy", "entropy of the top-k assignment histogram / log E (1 = balanced)");
        d.put("coefficientOfVariation", "population std / mean of the assignment counts");
        d.put("maxVio", "(max count - mean count) / mean count");
        d.put("expertsCovering50pct", "fewest experts whose assignments reach half of all assignments");
        d.put("coactivation", "N_{i,j} / N_i; all-pairs counts every pair of a token's top-k, adjacent-rank only "
                + "rank-neighbours both ways (OLMoE code, used by its figures)");
        d.put("consecutive", "pairs (doc, p), (doc, p+1): firstChoice = same top-1 (random 1/E); firstOrSecond = "
                + "top-2 sets intersect (random 1 - C(E-2,2)/C(E,2)); meanJaccard over full top-k sets");
        d.put("vocabulary", "mean over token ids seen >= minCount times of max_e N_{x,e} / N_x (OLMoE), for input, "
                + "ground-truth next and predicted next ids");
        d.put("confidence", "from full logits: softmax entropy / log E, p(1) - p(2), softmax mass of the top-k");
        return d;
    }

    /** Writes everything; returns the files written. Charts are drawn for {@code plotLayers} (all if empty). */
    public static List<Path> write(Path dir, RoutingAnalysis a, Provenance provenance, List<Integer> plotLayers) {
        return write(dir, a, provenance, plotLayers, Map.of());
    }

    /** As {@link #write(Path, RoutingAnalysis, Provenance, List)}, with {@code extra} entries added to summary.json. */
    public static List<Path> write(Path dir, RoutingAnalysis a, Provenance provenance, List<Integer> plotLayers,
                                   Map<String, Object> extra) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw MoescopeException.failure(dir + ": cannot create the output directory: " + e.getMessage(), e);
        }
        List<Path> files = new ArrayList<>();
        RoutingAnalysis.Summary s = a.summary();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("provenance", provenance.finishedNow());
        json.put("definitions", DEFINITIONS);
        json.put("summary", s);
        json.putAll(extra);
        files.add(csv(dir.resolve("expert_load.csv"), expertLoad(a)));
        files.add(csv(dir.resolve("layer_metrics.csv"), layerMetrics(s)));
        files.add(csv(dir.resolve("coactivation.csv"), coactivation(a)));
        files.add(csv(dir.resolve("consecutive.csv"), consecutive(s)));
        files.add(csv(dir.resolve("vocabulary.csv"), vocabulary(s)));
        files.addAll(charts(dir, a, s, plotLayers.isEmpty() ? a.layers() : plotLayers));
        Path summary = dir.resolve("summary.json");
        Json.write(summary, json); // last: its presence marks a complete report
        files.add(summary);
        return files;
    }

    /** Layers 0, middle and last, as OLMoE plots 0/7/15. */
    public static List<Integer> firstMiddleLast(List<Integer> layers) {
        if (layers.isEmpty()) {
            return layers;
        }
        LinkedHashSet<Integer> s = new LinkedHashSet<>();
        s.add(layers.get(0));
        s.add(layers.get(layers.size() / 2));
        s.add(layers.get(layers.size() - 1));
        return new ArrayList<>(s);
    }

    private static Path csv(Path file, StringBuilder body) {
        AtomicFiles.writeString(file, body.toString());
        return file;
    }

    private static String f(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
    }

    private static StringBuilder expertLoad(RoutingAnalysis a) {
        StringBuilder b = new StringBuilder("layer,domain,expert,count,top1_count,share\n");
        for (int layer : a.layers()) {
            List<String> domains = new ArrayList<>();
            domains.add(null);
            domains.addAll(a.domains());
            for (String d : domains) {
                ExpertLoad l = d == null ? a.load(layer) : a.load(layer, d);
                if (l == null) {
                    continue;
                }
                for (int e = 0; e < l.numExperts(); e++) {
                    b.append(layer).append(',').append(d == null ? "all" : quote(d)).append(',').append(e).append(',')
                            .append(l.count(e)).append(',').append(l.top1Count(e)).append(',').append(f(l.share(e)))
                            .append('\n');
                }
            }
        }
        return b;
    }

    private static StringBuilder layerMetrics(RoutingAnalysis.Summary s) {
        StringBuilder b = new StringBuilder("layer,domain,tokens,normalized_entropy,cv,max_over_mean,max_vio,"
                + "experts_covering_50pct,largest_share,largest_expert,experts_above_2x_uniform,dead_experts\n");
        for (RoutingAnalysis.LayerSummary l : s.layers()) {
            row(b, l.layer(), "all", l.load());
            l.byDomain().forEach((d, m) -> row(b, l.layer(), quote(d), m));
        }
        return b;
    }

    private static void row(StringBuilder b, int layer, String domain, RoutingAnalysis.LoadMetrics m) {
        b.append(layer).append(',').append(domain).append(',').append(m.tokens()).append(',')
                .append(f(m.normalizedEntropy())).append(',').append(f(m.coefficientOfVariation())).append(',')
                .append(f(m.maxOverMean())).append(',').append(f(m.maxVio())).append(',')
                .append(m.expertsCovering50pct()).append(',').append(f(m.largestShare())).append(',')
                .append(m.largestExpert()).append(',').append(m.expertsAbove2xUniform()).append(',')
                .append(m.deadExperts()).append('\n');
    }

    private static StringBuilder coactivation(RoutingAnalysis a) {
        StringBuilder b = new StringBuilder("layer,definition,expert_i,expert_j,coactivation\n");
        for (int layer : a.layers()) {
            CoActivation c = a.coactivation(layer);
            for (String def : new String[]{"all-pairs", "adjacent-rank"}) {
                for (int i = 0; i < c.numExperts(); i++) {
                    for (int j = 0; j < c.numExperts(); j++) {
                        if (i != j) {
                            double v = def.equals("all-pairs") ? c.allPairs(i, j) : c.adjacentRank(i, j);
                            b.append(layer).append(',').append(def).append(',').append(i).append(',').append(j)
                                    .append(',').append(f(v)).append('\n');
                        }
                    }
                }
            }
        }
        return b;
    }

    private static StringBuilder consecutive(RoutingAnalysis.Summary s) {
        StringBuilder b = new StringBuilder("layer,pairs,first_choice,first_choice_random,first_or_second,"
                + "first_or_second_random,mean_jaccard\n");
        for (RoutingAnalysis.LayerSummary l : s.layers()) {
            RoutingAnalysis.Consecutive c = l.consecutive();
            b.append(l.layer()).append(',').append(c.pairs()).append(',').append(f(c.firstChoice())).append(',')
                    .append(f(c.firstChoiceRandom())).append(',').append(f(c.firstOrSecond())).append(',')
                    .append(f(c.firstOrSecondRandom())).append(',').append(f(c.meanJaccard())).append('\n');
        }
        return b;
    }

    private static StringBuilder vocabulary(RoutingAnalysis.Summary s) {
        StringBuilder b = new StringBuilder("layer,token_kind,min_count,ids,mean_specialisation\n");
        for (RoutingAnalysis.LayerSummary l : s.layers()) {
            RoutingAnalysis.Vocabulary v = l.vocabulary();
            b.append(l.layer()).append(",input,").append(v.minCount()).append(',').append(v.inputIds()).append(',')
                    .append(f(v.input())).append('\n');
            b.append(l.layer()).append(",next,").append(v.minCount()).append(',').append(v.nextIds()).append(',')
                    .append(f(v.next())).append('\n');
            b.append(l.layer()).append(",predicted,").append(v.minCount()).append(',').append(v.predictedIds())
                    .append(',').append(f(v.predicted())).append('\n');
        }
        return b;
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    // ---- charts -----------------------------------------------------------------------------------------------

    private static List<Path> charts(Path dir, RoutingAnalysis a, RoutingAnalysis.Summary s, List<Integer> layers) {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        List<Path> files = new ArrayList<>();
        CategoryChart bars = new CategoryChartBuilder().width(900).height(450)
                .title("Largest expert share per layer (uniform k/E = " + f(s.uniformShare()) + ")")
                .xAxisTitle("layer").yAxisTitle("share of tokens").build();
        List<Integer> xs = new ArrayList<>();
        List<Double> largest = new ArrayList<>();
        List<Double> uniform = new ArrayList<>();
        for (RoutingAnalysis.LayerSummary l : s.layers()) {
            xs.add(l.layer());
            largest.add(l.load().largestShare());
            uniform.add(s.uniformShare());
        }
        if (!xs.isEmpty()) {
            bars.addSeries("largest share", xs, largest);
            bars.addSeries("uniform k/E", xs, uniform);
            files.add(save(bars, dir.resolve("largest_share_by_layer.png")));
        }
        List<String> domains = a.domains();
        for (int layer : layers) {
            if (a.layers().contains(layer) && !domains.isEmpty()) {
                files.add(domainHeatmap(dir, a, layer, domains));
            }
            if (a.layers().contains(layer)) {
                files.add(coactivationHeatmap(dir, a, layer));
            }
        }
        return files;
    }

    private static Path domainHeatmap(Path dir, RoutingAnalysis a, int layer, List<String> domains) {
        HeatMapChart c = new HeatMapChartBuilder().width(1000).height(120 + 40 * domains.size())
                .title("Layer " + layer + ": share of each domain's tokens routed to each expert (%)")
                .xAxisTitle("expert").yAxisTitle("domain").build();
        List<Integer> experts = new ArrayList<>();
        for (int e = 0; e < a.numExperts(); e++) {
            experts.add(e);
        }
        List<Number[]> heat = new ArrayList<>();
        for (int di = 0; di < domains.size(); di++) {
            ExpertLoad l = a.load(layer, domains.get(di));
            for (int e = 0; e < a.numExperts(); e++) {
                heat.add(new Number[]{e, di, l == null ? 0 : Math.round(1000 * l.share(e)) / 10.0});
            }
        }
        c.addSeries("share", experts, domains, heat);
        return save(c, dir.resolve("domain_specialisation_layer" + layer + ".png"));
    }

    private static Path coactivationHeatmap(Path dir, RoutingAnalysis a, int layer) {
        CoActivation co = a.coactivation(layer);
        int e = co.numExperts();
        HeatMapChart c = new HeatMapChartBuilder().width(800).height(760)
                .title("Layer " + layer + ": co-activation N(i,j)/N(i), adjacent-rank (OLMoE code) (%)")
                .xAxisTitle("expert j").yAxisTitle("expert i").build();
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < e; i++) {
            ids.add(i);
        }
        List<Number[]> heat = new ArrayList<>();
        for (int i = 0; i < e; i++) {
            for (int j = 0; j < e; j++) {
                heat.add(new Number[]{j, i, i == j ? 0 : Math.round(1000 * co.adjacentRank(i, j)) / 10.0});
            }
        }
        c.addSeries("co-activation", ids, ids, heat);
        return save(c, dir.resolve("coactivation_adjacent_layer" + layer + ".png"));
    }

    private static Path save(IChart chart, Path file) {
        try {
            Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp.png");
            BitmapEncoder.saveBitmap(chart, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
            AtomicFiles.moveAtomically(tmp, file);
            return file;
        } catch (IOException e) {
            throw MoescopeException.failure(file + ": cannot write chart: " + e.getMessage(), e);
        }
    }
}
