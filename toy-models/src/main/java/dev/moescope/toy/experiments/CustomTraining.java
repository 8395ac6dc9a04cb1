package dev.moescope.toy.experiments;

import dev.moescope.core.error.Require;
import dev.moescope.toy.metrics.ExpertUsage;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.RouterInit;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.train.BestOfSeeds;
import dev.moescope.toy.train.TrainResult;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** {@code moescope toy train}: one configuration, best of several seeds, with the per-expert geometry and plots. */
public final class CustomTraining {

    /**
     * @param arch       model shape
     * @param config     training settings
     * @param density    per-feature density (1 − S)
     * @param importance per-feature importance
     * @param routerInit router initialisation
     * @param seeds      instances trained; the best by {@code criterion} is analysed
     * @param criterion  best-of-seeds criterion
     */
    public record Request(Architecture arch, TrainingConfig config, float[] density, float[] importance,
                          RouterInit routerInit, int seeds, BestOfSeeds.Criterion criterion) {
        public Request {
            Require.positive("seeds", seeds);
        }
    }

    private CustomTraining() {
    }

    public static Map<String, Object> run(ExperimentContext ctx, Request req) {
        InstanceSpec[] specs = ctx.seedReplicates("toy train", req.seeds(), req.density(), req.importance(),
                req.routerInit());
        TrainResult result = ctx.train(req.arch(), req.config(), specs, "train " + req.arch().label());
        int best = BestOfSeeds.select(result, req.seeds(), req.criterion())[0];
        float[][] xs = ExpertUsage.sample(specs[best], 4096, new SplittableRandom(ctx.instanceSeed("toy train eval", 0)));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("architecture", req.arch());
        out.put("chosen_seed_index", best);
        out.put("selection", req.criterion().name());
        out.put("held_out_loss", result.heldOutLoss()[best]);
        out.put("last_step_loss", result.lastLoss()[best]);
        out.put("last_step_load_balance", result.lastBalance()[best]);
        out.put("held_out_loss_per_seed", result.heldOutLoss());
        out.put("features_per_dimension", ExpertUsage.moeFeaturesPerDimension(result.weights(), best, xs));
        out.put("usage_top1", ExpertUsage.topOneUsage(result.weights(), best, xs));
        out.put("global_dimensionality", Geometry.round(ExpertUsage.globalDimensionality(result.weights(), best, xs)));
        out.put("experts", Geometry.perExpert(result.weights(), best));
        out.put("model_steps_per_second", result.modelStepsPerSecond());
        List<String> files = new ArrayList<>(FeatureBarsExperiment.plots(ctx, "model", req.arch().label(),
                result.weights(), best));
        files.add(ctx.save("model", result));
        out.put("files", files);
        out.put("seconds", result.seconds());
        return out;
    }
}
