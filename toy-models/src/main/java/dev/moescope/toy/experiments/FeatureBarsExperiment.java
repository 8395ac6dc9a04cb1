package dev.moescope.toy.experiments;

import dev.moescope.toy.metrics.ExpertUsage;
import dev.moescope.toy.metrics.FeatureGeometry;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.ToyWeights;
import dev.moescope.toy.plot.Figures;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Shared output of the per-expert bar-chart figures (Figs 1, 2, 6): bars, Gram heatmaps, usage. */
final class FeatureBarsExperiment {

    private FeatureBarsExperiment() {
    }

    /** Writes {@code <name>-bars.png} and {@code <name>-gram.png} for one instance; returns the file names. */
    static List<String> plots(ExperimentContext ctx, String name, String title, ToyWeights w, int instance) {
        Architecture a = w.architecture();
        List<Figures.BarRow> rows = new ArrayList<>();
        List<double[][]> grams = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        for (int e = 0; e < a.experts(); e++) {
            float[][] mat = w.expertMatrix(instance, e);
            String t = a.isDense() ? "dense" : "expert " + e;
            rows.add(new Figures.BarRow(t + String.format("  (Σ D_i = %.2f)", FeatureGeometry.dimensionalitySum(mat)),
                    FeatureGeometry.norms(mat), FeatureGeometry.superposition(mat)));
            grams.add(FeatureGeometry.gram(mat));
            titles.add(t);
        }
        Figures.featureBars(ctx.out().resolve(name + "-bars.png"), title + ": ‖W_i‖ coloured by superposition", rows,
                a.hidden());
        Figures.gramHeatmaps(ctx.out().resolve(name + "-gram.png"), title + ": WᵀW per expert, [−1, 1]", grams, titles);
        return List.of(name + "-bars.png", name + "-gram.png");
    }

    /** Top-1 usage of each expert on 8192 inputs from the instance's distribution. */
    static double[] usage(ExperimentContext ctx, ToyWeights w, int instance, InstanceSpec spec) {
        float[][] x = ExpertUsage.sample(spec, 8192, new SplittableRandom(ctx.instanceSeed("usage", instance)));
        return ExpertUsage.topOneUsage(w, instance, x);
    }
}
