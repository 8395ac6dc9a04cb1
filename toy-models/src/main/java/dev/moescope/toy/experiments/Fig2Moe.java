package dev.moescope.toy.experiments;

import dev.moescope.toy.metrics.FeatureGeometry;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.Importance;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.LossReduction;
import dev.moescope.toy.model.RouterInit;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.model.ToyWeights;
import dev.moescope.toy.train.BestOfSeeds;
import dev.moescope.toy.train.TrainResult;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MoE paper Fig 2: n=20, m=5, E=4, k=1, I=0.7^i, S=0.9, Xavier router, LB off. Expected: each expert represents
 * most of features 0–10 with norm ≈ 1 in superposition, Σ_i D_i = 5 per expert, features ≥ 12 unrepresented.
 * Whether a run shows that depends on its seed (the router is frozen at its random start, and Xavier output biases
 * can leave important features dead), so every seed is checked against the paper's panel.
 */
public final class Fig2Moe implements Experiment {

    @Override
    public String name() {
        return "fig2";
    }

    @Override
    public String description() {
        return "MoE paper Fig 2: MoE n=20, m=5, E=4, k=1 per-expert norms, superposition and Gram matrices";
    }

    @Override
    public Map<String, Object> run(ExperimentContext ctx) {
        int n = 20;
        // the paper shows one run, but the picture depends on the seed (see REPRODUCTION.md): train ten and report
        // how many match it
        int seeds = ctx.seeds(10, 2);
        TrainingConfig config = TrainingConfig.paperDefaults().withReduction(LossReduction.SUM_FEATURES)
                .withSteps(ctx.steps(10_000, 4000));
        InstanceSpec[] specs = ctx.seedReplicates("fig2", seeds, InstanceSpec.uniformDensity(n, 0.1),
                Importance.geometric(n, 0.7), RouterInit.XAVIER);
        Architecture arch = new Architecture(n, 5, 4, 1);
        TrainResult result = ctx.train(arch, config, specs, "fig2");
        int best = BestOfSeeds.select(result, seeds, BestOfSeeds.Criterion.HELD_OUT)[0];
        Map<String, Object> out = new LinkedHashMap<>(paperCriteria(result.weights(), best));
        List<Map<String, Object>> experts = Geometry.perExpert(result.weights(), best);
        // every seed against the paper's criteria: how seed-sensitive the figure is
        List<Map<String, Object>> perSeed = new ArrayList<>();
        int matching = 0;
        for (int r = 0; r < seeds; r++) {
            Map<String, Object> c = paperCriteria(result.weights(), r);
            c.put("held_out_loss", result.heldOutLoss()[r]);
            c.put("usage_top1", FeatureBarsExperiment.usage(ctx, result.weights(), r, specs[r]));
            matching += (boolean) c.get("matches_paper") ? 1 : 0;
            perSeed.add(c);
        }
        out.put("chosen_seed_index", best);
        out.put("seeds", seeds);
        out.put("seeds_matching_paper", matching);
        out.put("per_seed", perSeed);
        out.put("usage_top1", FeatureBarsExperiment.usage(ctx, result.weights(), best, specs[best]));
        out.put("held_out_loss", result.heldOutLoss()[best]);
        out.put("experts", experts);
        List<String> files = new ArrayList<>(FeatureBarsExperiment.plots(ctx, "fig2",
                "Fig 2 MoE n=20 m=5 E=4 k=1 S=0.9", result.weights(), best));
        files.add(ctx.save("fig2", result));
        out.put("files", files);
        out.put("seconds", result.seconds());
        return ConsoleSummary.training(config).setting("model", "MoE n=" + n + " m=5 E=4 k=1, S=0.9")
                .setting("seeds", seeds)
                .headline("seeds matching the paper's panel", matching + " of " + seeds)
                .headline("of features 0-10, represented per expert (best seed)",
                        out.get("represented_of_features_0_10_per_expert"))
                .headline("dimensionality sum per expert (best seed)",
                        out.get("dimensionality_sum_per_expert"))
                .headline("held-out loss (best seed)", out.get("held_out_loss")).into(out);
    }

    /** The paper's Fig 2: each expert represents at least this many of features 0–10 (its run: 8, 9, 10, 8). */
    public static final int PAPER_MIN_REPRESENTED = 8;
    /** A feature counts as represented above this norm (the paper's represented features sit at 0.91–1.05). */
    public static final double REPRESENTED_NORM = 0.8;
    /** Features ≥ 12 count as unrepresented below this norm (the paper's run: at most 0.06). */
    public static final double UNREPRESENTED_NORM = 0.5;

    /**
     * The Fig 2 numbers of one instance: per expert, how many of features 0–10 have ‖W_i‖ &gt; 0.8 and Σ_i D_i; the
     * largest ‖W_i‖ of features ≥ 12 over experts; whether it matches the paper's figure (every expert 8–10, all
     * features ≥ 12 below 0.5: the authors' own run has 8, 9, 10 and 8, and at most 0.06 beyond feature 11).
     */
    public static Map<String, Object> paperCriteria(ToyWeights weights, int instance) {
        Architecture arch = weights.architecture();
        double tail = 0;
        List<Integer> represented = new ArrayList<>();
        List<Double> sums = new ArrayList<>();
        for (int e = 0; e < arch.experts(); e++) {
            float[][] w = weights.expertMatrix(instance, e);
            double[] norms = FeatureGeometry.norms(w);
            int c = 0;
            for (int i = 0; i <= 10; i++) {
                c += norms[i] > REPRESENTED_NORM ? 1 : 0;
            }
            for (int i = 12; i < norms.length; i++) {
                tail = Math.max(tail, norms[i]);
            }
            represented.add(c);
            sums.add(FeatureGeometry.dimensionalitySum(w));
        }
        boolean match = tail < UNREPRESENTED_NORM
                && represented.stream().allMatch(c -> c >= PAPER_MIN_REPRESENTED && c <= 10);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("represented_of_features_0_10_per_expert", represented);
        m.put("dimensionality_sum_per_expert", sums);
        m.put("max_norm_features_12_plus", tail);
        m.put("matches_paper", match);
        return m;
    }
}
