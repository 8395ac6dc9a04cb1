package dev.moescope.toy.experiments;

import dev.moescope.toy.metrics.FeatureGeometry;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.Importance;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.LossReduction;
import dev.moescope.toy.model.RouterInit;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.train.BestOfSeeds;
import dev.moescope.toy.train.TrainResult;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MoE paper Fig 1, the dense baseline: n=20, m=6, I=0.7^i, S=0.9 (the single-model path: Xavier bias, loss summed
 * over features). Expected: 9–12 features with norm ≈ 1, mostly antipodal pairs, features ≥ 14 ≈ 0, Σ D_i = 6.
 */
public final class Fig1Dense implements Experiment {

    @Override
    public String name() {
        return "fig1";
    }

    @Override
    public String description() {
        return "MoE paper Fig 1: dense n=20, m=6, S=0.9, I=0.7^i feature norms and superposition";
    }

    @Override
    public Map<String, Object> run(ExperimentContext ctx) {
        int n = 20;
        int seeds = ctx.seeds(3, 2);
        TrainingConfig config = TrainingConfig.paperDefaults().withReduction(LossReduction.SUM_FEATURES)
                .withSteps(ctx.steps(10_000, 4000));
        InstanceSpec[] specs = ctx.seedReplicates("fig1", seeds, InstanceSpec.uniformDensity(n, 0.1),
                Importance.geometric(n, 0.7), RouterInit.ZERO);
        TrainResult result = ctx.train(Architecture.dense(n, 6), config, specs, "fig1");
        int best = BestOfSeeds.select(result, seeds, BestOfSeeds.Criterion.HELD_OUT)[0];
        float[][] w = result.weights().expertMatrix(best, 0);
        Map<String, Object> out = new LinkedHashMap<>(denseSummary(w));
        out.put("held_out_loss", result.heldOutLoss()[best]);
        out.put("chosen_seed_index", best);
        out.put("experts", Geometry.perExpert(result.weights(), best));
        List<String> files = new ArrayList<>(FeatureBarsExperiment.plots(ctx, "fig1", "Fig 1 dense n=20 m=6 S=0.9",
                result.weights(), best));
        files.add(ctx.save("fig1", result));
        out.put("files", files);
        out.put("seconds", result.seconds());
        return ConsoleSummary.training(config).setting("model", "dense n=" + n + " m=6, S=0.9")
                .setting("seeds (best of)", seeds)
                .headline("features with norm > 0.8", out.get("represented_norm_gt_0_8"))
                .headline("of which superposed / dedicated", out.get("represented_superposed") + " / "
                        + out.get("represented_dedicated"))
                .headline("dimensionality sum", out.get("dimensionality_sum"))
                .headline("held-out loss", out.get("held_out_loss")).into(out);
    }

    /** Counts of represented, antipodal and dedicated features of a dense matrix, and Σ D_i. */
    static Map<String, Object> denseSummary(float[][] w) {
        double[] norms = FeatureGeometry.norms(w);
        double[] sup = FeatureGeometry.superposition(w);
        int unit = 0;
        int superposed = 0;
        int dedicated = 0;
        double tail = 0;
        for (int i = 0; i < w.length; i++) {
            if (norms[i] > 0.8) {
                unit++;
                if (sup[i] > 0.5) {
                    superposed++;
                } else {
                    dedicated++;
                }
            }
            if (i >= 14) {
                tail = Math.max(tail, norms[i]);
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("represented_norm_gt_0_8", unit);
        m.put("represented_superposed", superposed);
        m.put("represented_dedicated", dedicated);
        m.put("max_norm_features_14_plus", tail);
        m.put("dimensionality_sum", FeatureGeometry.dimensionalitySum(w));
        return m;
    }
}
