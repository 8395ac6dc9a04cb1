package dev.moescope.toy.experiments;

import dev.moescope.toy.metrics.FeatureGeometry;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.BiasInit;
import dev.moescope.toy.model.Importance;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.LossReduction;
import dev.moescope.toy.model.RouterInit;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.plot.Figures;
import dev.moescope.toy.train.BestOfSeeds;
import dev.moescope.toy.train.TrainResult;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * TMS intro figure: n=5, m=2, I=0.9^i, 10 densities p = 20^{−linspace(0,1,10)}. At p=1 two features are kept,
 * orthogonal; at low density all five form a pentagon (72° apart). Anthropic's settings: zero bias, mean loss.
 */
public final class TmsIntro implements Experiment {

    @Override
    public String name() {
        return "tms-intro";
    }

    @Override
    public String description() {
        return "TMS intro: n=5, m=2 from two orthogonal features (dense) to a pentagon (sparse)";
    }

    @Override
    public Map<String, Object> run(ExperimentContext ctx) {
        int n = 5;
        int seeds = ctx.seeds(4, 2);
        TrainingConfig config = TrainingConfig.paperDefaults().withBiasInit(BiasInit.ZERO)
                .withReduction(LossReduction.MEAN_FEATURES).withSteps(ctx.steps(10_000, 6000));
        double[] density = Geometry.logspace(20, 10);
        InstanceSpec[] specs = new InstanceSpec[density.length * seeds];
        for (int c = 0; c < density.length; c++) {
            for (int r = 0; r < seeds; r++) {
                specs[c * seeds + r] = new InstanceSpec(InstanceSpec.uniformDensity(n, density[c]),
                        Importance.geometric(n, 0.9), RouterInit.ZERO, ctx.instanceSeed("tms-intro", c * seeds + r),
                        String.format("p=%.4f seed=%d", density[c], r));
            }
        }
        TrainResult result = ctx.train(Architecture.dense(n, 2), config, specs, "tms-intro");
        int[] best = BestOfSeeds.select(result, seeds, BestOfSeeds.Criterion.HELD_OUT);
        List<Map<String, Object>> cells = new ArrayList<>();
        List<float[][]> mats = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        for (int c = 0; c < density.length; c++) {
            float[][] w = result.weights().expertMatrix(best[c], 0);
            mats.add(w);
            titles.add(String.format("p=%.3f", density[c]));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("density", density[c]);
            m.put("norms", Geometry.round(FeatureGeometry.norms(w)));
            m.put("represented_norm_gt_0_8", FeatureGeometry.countRepresented(w, 0.8));
            m.put("adjacent_angles_deg", Geometry.round(adjacentAngles(w, 0.5)));
            m.put("held_out_loss", result.heldOutLoss()[best[c]]);
            cells.add(m);
        }
        Figures.vectors2d(ctx.out().resolve("features.png"), "TMS intro: feature vectors (n=5, m=2)", mats, titles);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("densities", cells);
        float[][] dense = mats.get(0);
        out.put("dense_represented_norm_gt_0_9", FeatureGeometry.countRepresented(dense, 0.9));
        out.put("dense_max_abs_cos_between_represented", maxAbsCos(dense, 0.9));
        float[][] sparse = mats.get(mats.size() - 1);
        out.put("sparse_density", density[density.length - 1]);
        out.put("sparse_represented_norm_gt_0_8", FeatureGeometry.countRepresented(sparse, 0.8));
        out.put("sparse_adjacent_angles_deg", Geometry.round(adjacentAngles(sparse, 0.5)));
        out.put("files", List.of(ctx.save("tms-intro", result), "features.png"));
        out.put("seconds", result.seconds());
        return ConsoleSummary.training(config).setting("model", "dense n=" + n + " m=2")
                .setting("densities", ConsoleSummary.range(density)).setting("seeds (best of)", seeds)
                .headline("features with norm > 0.9 at density " + ConsoleSummary.format(density[0]),
                        out.get("dense_represented_norm_gt_0_9"))
                .headline("features with norm > 0.8 at density "
                        + ConsoleSummary.format(density[density.length - 1]),
                        out.get("sparse_represented_norm_gt_0_8"))
                .headline("adjacent angles (degrees) there", out.get("sparse_adjacent_angles_deg")).into(out);
    }

    /** Sorted angles (degrees) between circularly adjacent represented feature vectors (norm above threshold). */
    static double[] adjacentAngles(float[][] w, double threshold) {
        double[] norms = FeatureGeometry.norms(w);
        List<Double> angles = new ArrayList<>();
        for (int i = 0; i < w.length; i++) {
            if (norms[i] > threshold) {
                angles.add(Math.toDegrees(Math.atan2(w[i][1], w[i][0])));
            }
        }
        if (angles.size() < 2) {
            return new double[0];
        }
        double[] a = angles.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double[] gaps = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            gaps[i] = i + 1 < a.length ? a[i + 1] - a[i] : 360 - a[i] + a[0];
        }
        Arrays.sort(gaps);
        return gaps;
    }

    static double maxAbsCos(float[][] w, double threshold) {
        double[] norms = FeatureGeometry.norms(w);
        double worst = 0;
        for (int i = 0; i < w.length; i++) {
            for (int j = i + 1; j < w.length; j++) {
                if (norms[i] > threshold && norms[j] > threshold) {
                    double c = (w[i][0] * w[j][0] + w[i][1] * w[j][1]) / (norms[i] * norms[j]);
                    worst = Math.max(worst, Math.abs(c));
                }
            }
        }
        return worst;
    }
}
