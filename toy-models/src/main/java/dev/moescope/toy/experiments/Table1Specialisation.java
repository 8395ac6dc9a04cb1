package dev.moescope.toy.experiments;

import dev.moescope.toy.metrics.ExpertUsage;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.Importance;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.RouterInit;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.model.ToyWeights;
import dev.moescope.toy.plot.Figures;
import dev.moescope.toy.train.TrainResult;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * MoE paper Table 1: n=100, m=10, E=10, k=1, S=0.9, I=0.9^{π(i)} (one seeded permutation shared by all models),
 * 100 models with Xavier routers and 100 with random disjoint 10-hot routers. Per expert: its monosemantic
 * features (superposition &lt; 0.2, without and with a ‖W_i‖ &gt; 0.5 filter) and its top-1 usage (a) on the data,
 * (b) with its monosemantic features clamped to 1, (c) with only those features active; grouped by the number
 * of monosemantic features, against the median usage across experts.
 */
public final class Table1Specialisation implements Experiment {

    @Override
    public String name() {
        return "table1";
    }

    @Override
    public String description() {
        return "MoE paper Table 1: monosemantic features and usage per expert, Xavier vs random k-hot router inits";
    }

    @Override
    public Map<String, Object> run(ExperimentContext ctx) {
        boolean quick = ctx.quick();
        int perScheme = ctx.seeds(100, 5);
        int usageInputs = quick ? 2048 : 8192;
        int n = 100;
        Architecture arch = new Architecture(n, 10, 10, 1);
        float[] importance = Importance.permutedGeometric(n, 0.9, ctx.instanceSeed("table1 importance", 0));
        RouterInit[] schemes = {RouterInit.XAVIER, RouterInit.RANDOM_K_HOT};
        InstanceSpec[] specs = new InstanceSpec[2 * perScheme];
        for (int s = 0; s < 2; s++) {
            for (int i = 0; i < perScheme; i++) {
                specs[s * perScheme + i] = new InstanceSpec(InstanceSpec.uniformDensity(n, 0.1), importance,
                        schemes[s], ctx.instanceSeed("table1", s * perScheme + i), schemes[s].cliName() + " #" + i);
            }
        }
        TrainingConfig config = TrainingConfig.paperDefaults().withSteps(ctx.steps(10_000, 1000))
                .withBatch(quick ? 512 : 1024);
        TrainResult result = ctx.train(arch, config, specs, "table1");
        Map<String, Object> out = new LinkedHashMap<>();
        for (int s = 0; s < 2; s++) {
            out.put(schemes[s].cliName(), analyseScheme(ctx, result.weights(), specs, s * perScheme, perScheme,
                    usageInputs));
        }
        out.put("importance", importance);
        out.put("models_per_scheme", perScheme);
        usageFigure(ctx, out, schemes, perScheme, config.steps());
        out.put("files", List.of(ctx.save("table1", result), USAGE_PNG));
        out.put("seconds", result.seconds());
        ConsoleSummary console = ConsoleSummary.training(config).setting("model", "MoE n=" + n + " m=10 E=10 k=1")
                .setting("models per router scheme", perScheme);
        for (RouterInit scheme : schemes) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) out.get(scheme.cliName());
            console.headline("experts with monosemantic features, " + scheme.cliName(),
                    m.get("experts_with_monosemantic_features") + " of " + perScheme * arch.experts());
            console.headline("median expert usage, " + scheme.cliName(), m.get("median_usage_across_experts"));
        }
        return console.into(out);
    }

    static final String USAGE_PNG = "table1-usage.png";

    /** The usage table as a figure: per init scheme, mean top-1 usage by number of monosemantic features. */
    @SuppressWarnings("unchecked")
    private static void usageFigure(ExperimentContext ctx, Map<String, Object> out, RouterInit[] schemes,
                                    int perScheme, int steps) {
        List<Figures.BarGroupPanel> panels = new ArrayList<>();
        StringBuilder medians = new StringBuilder();
        for (RouterInit scheme : schemes) {
            Map<String, Object> m = (Map<String, Object>) out.get(scheme.cliName());
            List<Map<String, Object>> rows = (List<Map<String, Object>>) m.get("usage_by_monosemantic_count");
            List<String> cats = new ArrayList<>();
            double[][] v = new double[4][rows.size()];
            double median = (double) m.get("median_usage_across_experts");
            for (int r = 0; r < rows.size(); r++) {
                Map<String, Object> row = rows.get(r);
                cats.add(row.get("monosemantic_features") + " (" + row.get("experts") + " experts)");
                v[0][r] = (double) row.get("usage_unchanged");
                v[1][r] = (double) row.get("usage_active_clamped_to_1");
                v[2][r] = (double) row.get("usage_only_feature_active");
                v[3][r] = median;
            }
            Map<String, double[]> series = new LinkedHashMap<>();
            series.put("unchanged", v[0]);
            series.put("clamped to 1", v[1]);
            series.put("only these active", v[2]);
            series.put("median (all experts)", v[3]);
            if (!cats.isEmpty()) {
                panels.add(new Figures.BarGroupPanel(scheme.cliName() + " router init",
                        "monosemantic features per expert (‖W_i‖ > 0.5, superposition < 0.2)",
                        "mean top-1 usage of the expert", cats, series));
            }
            medians.append(String.format(" %s: %.3f;", scheme.cliName(), median));
        }
        if (panels.isEmpty()) {
            return; // no expert has a monosemantic feature: nothing to draw
        }
        String caption = String.format("Expert usage (MoE paper Table 1): n=100, m=10, E=10, k=1, S=0.9, "
                + "I=0.9^perm; %d models per router init, %d steps. Bars: fraction of inputs routed (top-1) to an "
                + "expert, averaged over the experts with that many monosemantic features: on unchanged inputs, "
                + "with the expert's monosemantic features clamped to 1, and with only those features active "
                + "(U[0,1), all others 0). Red: median usage across all experts on unchanged inputs (%s uniform "
                + "%.2f).", perScheme, steps,
                medians.toString().trim(), 1.0 / 10);
        Figures.groupedBars(ctx.out().resolve(USAGE_PNG), "Table 1: expert usage by monosemantic features", panels,
                caption);
    }

    private static Map<String, Object> analyseScheme(ExperimentContext ctx, ToyWeights w, InstanceSpec[] specs,
                                                     int first, int count, int usageInputs) {
        int experts = w.architecture().experts();
        int[] histAll = new int[12];
        int[] histFiltered = new int[12];
        // by number of (filtered) monosemantic features: sums of usage under the three conditions, and counts
        Map<Integer, double[]> byCount = new java.util.TreeMap<>();
        List<Double> unconditional = new ArrayList<>();
        int inOwnGroup = 0;
        int withMono = 0;
        double ownGroupOnlyActive = 0;
        for (int inst = first; inst < first + count; inst++) {
            List<List<Integer>> monoAll = Fig6Specialisation.monosemantic(w, inst, -1);
            List<List<Integer>> mono = Fig6Specialisation.monosemantic(w, inst, 0.5);
            List<List<Integer>> groups = Fig6Specialisation.gateGroups(w, inst);
            SplittableRandom rnd = new SplittableRandom(ctx.instanceSeed("table1 usage", inst));
            float[][] data = ExpertUsage.sample(specs[inst], usageInputs, rnd);
            double[] base = ExpertUsage.topOneUsage(w, inst, data);
            for (int e = 0; e < experts; e++) {
                unconditional.add(base[e]);
                histAll[Math.min(11, monoAll.get(e).size())]++;
                int k = mono.get(e).size();
                histFiltered[Math.min(11, k)]++;
                if (k == 0) {
                    continue;
                }
                withMono++;
                double clamped = ExpertUsage.topOneUsage(w, inst, clamp(data, mono.get(e)))[e];
                double only = ExpertUsage.topOneUsage(w, inst, onlyActive(usageInputs, specs[inst].features(),
                        mono.get(e), rnd))[e];
                double[] acc = byCount.computeIfAbsent(k, x -> new double[4]);
                acc[0] += base[e];
                acc[1] += clamped;
                acc[2] += only;
                acc[3]++;
                if (!groups.get(e).isEmpty() && groups.get(e).containsAll(mono.get(e))) {
                    inOwnGroup++;
                    ownGroupOnlyActive += only;
                }
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("experts_by_monosemantic_count_no_norm_filter", histAll);
        m.put("experts_by_monosemantic_count_norm_gt_0_5", histFiltered);
        List<Map<String, Object>> rows = new ArrayList<>();
        byCount.forEach((k, acc) -> {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("monosemantic_features", k);
            r.put("experts", (int) acc[3]);
            r.put("usage_unchanged", acc[0] / acc[3]);
            r.put("usage_active_clamped_to_1", acc[1] / acc[3]);
            r.put("usage_only_feature_active", acc[2] / acc[3]);
            rows.add(r);
        });
        m.put("usage_by_monosemantic_count", rows);
        double[] u = unconditional.stream().mapToDouble(Double::doubleValue).toArray();
        m.put("median_usage_across_experts", ExpertUsage.median(u));
        m.put("uniform_usage", 1.0 / experts);
        m.put("experts_with_monosemantic_features", withMono);
        m.put("experts_whose_monosemantic_features_lie_in_own_gate_group", inOwnGroup);
        m.put("mean_only_active_usage_of_those", inOwnGroup == 0 ? 0 : ownGroupOnlyActive / inOwnGroup);
        return m;
    }

    private static float[][] clamp(float[][] data, List<Integer> features) {
        float[][] x = new float[data.length][];
        for (int s = 0; s < data.length; s++) {
            x[s] = data[s].clone();
            for (int i : features) {
                x[s][i] = 1f;
            }
        }
        return x;
    }

    private static float[][] onlyActive(int count, int n, List<Integer> features, SplittableRandom rnd) {
        float[][] x = new float[count][n];
        for (float[] row : x) {
            for (int i : features) {
                row[i] = (float) rnd.nextDouble();
            }
        }
        return x;
    }
}
