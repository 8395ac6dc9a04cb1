package dev.moescope.toy.experiments;

import dev.moescope.core.error.Require;
import dev.moescope.toy.metrics.ExpertUsage;
import dev.moescope.toy.metrics.FeatureGeometry;
import dev.moescope.toy.metrics.PhaseMap;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.Importance;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.RouterInit;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.plot.Figures;
import dev.moescope.toy.train.BestOfSeeds;
import dev.moescope.toy.train.TrainResult;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@code moescope toy sweep}: any grid over sparsity × last-feature importance × E × k × router init. Each (E, k)
 * is one batched run holding every cell and seed; per cell the best seed is analysed.
 */
public final class CustomSweep {

    /**
     * @param features       n
     * @param hidden         m per expert
     * @param sparsity       S values
     * @param lastImportance last-feature importance values (others 1); null or empty: {@code decay}^i for all
     * @param decay          importance decay when no last-feature values are given
     * @param experts        E values
     * @param active         k values (pairs with k &gt; E are skipped)
     * @param inits          router inits
     * @param seeds          seeds per cell
     * @param criterion      best-of-seeds criterion
     * @param config         training settings
     */
    public record Request(int features, int hidden, double[] sparsity, double[] lastImportance, double decay,
                          int[] experts, int[] active, List<RouterInit> inits, int seeds,
                          BestOfSeeds.Criterion criterion, TrainingConfig config) {
        public Request {
            Require.positive("features (n)", features);
            Require.positive("hidden (m)", hidden);
            Require.that(sparsity.length > 0, "sparsity", "a non-empty list", "nothing");
            for (double s : sparsity) {
                Require.inHalfOpen("sparsity S", s, 0, 1);
            }
            Require.positive("seeds", seeds);
            Require.that(!inits.isEmpty(), "router inits", "a non-empty list", "nothing");
        }
    }

    private CustomSweep() {
    }

    public static Map<String, Object> run(ExperimentContext ctx, Request req) {
        double[] imps = req.lastImportance() == null || req.lastImportance().length == 0
                ? new double[] {Double.NaN} : req.lastImportance();
        List<Map<String, Object>> cells = new ArrayList<>();
        Map<String, double[][]> fpdSeries = new LinkedHashMap<>();
        List<String> files = new ArrayList<>();
        int runs = 0;
        for (int e : req.experts()) {
            for (int k : req.active()) {
                if (k > e) {
                    continue;
                }
                Architecture arch = new Architecture(req.features(), req.hidden(), e, k);
                List<InstanceSpec> specs = new ArrayList<>();
                List<Map<String, Object>> keys = new ArrayList<>();
                for (RouterInit init : req.inits()) {
                    for (double imp : imps) {
                        for (double s : req.sparsity()) {
                            Map<String, Object> key = new LinkedHashMap<>();
                            key.put("experts", e);
                            key.put("active", k);
                            key.put("router_init", init.cliName());
                            key.put("sparsity", s);
                            key.put("last_importance", Double.isNaN(imp) ? null : imp);
                            keys.add(key);
                            float[] importance = Double.isNaN(imp) ? Importance.geometric(req.features(), req.decay())
                                    : Importance.lastFeature(req.features(), imp);
                            for (int r = 0; r < req.seeds(); r++) {
                                int idx = specs.size();
                                specs.add(new InstanceSpec(InstanceSpec.uniformDensity(req.features(), 1 - s),
                                        importance, init, ctx.instanceSeed("toy sweep " + arch.label(), idx),
                                        key + " seed=" + r));
                            }
                        }
                    }
                }
                InstanceSpec[] arr = specs.toArray(new InstanceSpec[0]);
                TrainResult result = ctx.train(arch, req.config(), arr, "sweep " + arch.label());
                runs++;
                int[] best = BestOfSeeds.select(result, req.seeds(), req.criterion());
                for (int c = 0; c < best.length; c++) {
                    int inst = best[c];
                    float[][] xs = ExpertUsage.sample(arr[inst], 2048,
                            new SplittableRandom(ctx.instanceSeed("toy sweep eval", inst)));
                    Map<String, Object> cell = new LinkedHashMap<>(keys.get(c));
                    cell.put("held_out_loss", result.heldOutLoss()[inst]);
                    cell.put("last_step_loss", result.lastLoss()[inst]);
                    cell.put("features_per_dimension", ExpertUsage.moeFeaturesPerDimension(result.weights(), inst, xs));
                    cell.put("usage_top1", ExpertUsage.topOneUsage(result.weights(), inst, xs));
                    List<String> classes = new ArrayList<>();
                    List<Double> dimSums = new ArrayList<>();
                    for (int ex = 0; ex < e; ex++) {
                        float[][] w = result.weights().expertMatrix(inst, ex);
                        classes.add(PhaseMap.classifyLastFeature(w).name().toLowerCase());
                        dimSums.add(FeatureGeometry.dimensionalitySum(w));
                    }
                    cell.put("last_feature_class_per_expert", classes);
                    cell.put("dimensionality_sum_per_expert", dimSums);
                    cell.put("instance", inst);
                    cells.add(cell);
                }
                // features per dimension against 1/(1−S): one series per (init, importance)
                int perSeries = req.sparsity().length;
                for (int sIdx = 0; sIdx * perSeries < best.length; sIdx++) {
                    double[] x = new double[perSeries];
                    double[] y = new double[perSeries];
                    for (int j = 0; j < perSeries; j++) {
                        Map<String, Object> cell = cells.get(cells.size() - best.length + sIdx * perSeries + j);
                        x[j] = 1 / (1 - req.sparsity()[j]);
                        y[j] = (double) cell.get("features_per_dimension");
                    }
                    Map<String, Object> key = keys.get(sIdx * perSeries);
                    fpdSeries.put(arch.label() + " " + key.get("router_init")
                            + (key.get("last_importance") == null ? "" : " I=" + key.get("last_importance")), new double[][] {x, y});
                }
                files.add(ctx.save("sweep-" + arch.label(), result));
            }
        }
        Require.that(runs > 0, "k values", "at most some E value", java.util.Arrays.toString(req.active()));
        if (req.sparsity().length > 1) {
            Figures.lines(ctx.out().resolve("sweep-features-per-dimension.png"), "Features per dimension",
                    "1/(1−S)", "features per dimension", true, false, fpdSeries, new double[] {1.0, 2.0});
            files.add("sweep-features-per-dimension.png");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("cells", cells);
        out.put("seeds_per_cell", req.seeds());
        out.put("selection", req.criterion().name());
        out.put("files", files);
        return out;
    }
}
