package dev.moescope.toy.experiments;

import dev.moescope.toy.metrics.ExpertUsage;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.Importance;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.RouterInit;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.plot.Figures;
import dev.moescope.toy.train.TrainResult;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * MoE paper Fig 3 and its loss figure: a dense model and three MoEs with the same total hidden width (E·m = 20),
 * n=100, I≡1, trained at 30 densities 1.0 … 0.1 (x = 1/(1−S) from 1 to 10), vectorised-path settings (loss mean
 * over features, Xavier bias and router, LB off). Fig 3 plots features per dimension (the MoE definition,
 * reducing to ‖W‖_F²/m when dense); the loss figure the log of the final loss averaged over runs.
 */
public final class SparsitySweep implements Experiment {

    /** A model family of the sweep. */
    record Family(String label, Architecture arch) {
    }

    private final boolean lossFigure;

    private SparsitySweep(boolean lossFigure) {
        this.lossFigure = lossFigure;
    }

    /** Fig 3: features per dimension vs 1/(1−S). */
    public static SparsitySweep fig3() {
        return new SparsitySweep(false);
    }

    /** The loss figure: final loss vs 1/(1−S), averaged over 5 runs. */
    public static SparsitySweep loss() {
        return new SparsitySweep(true);
    }

    @Override
    public String name() {
        return lossFigure ? "loss" : "fig3";
    }

    @Override
    public String description() {
        return lossFigure ? "MoE paper loss figure: log final loss vs 1/(1-S) for a dense model and three MoEs"
                : "MoE paper Fig 3: features per dimension vs 1/(1-S), a dense model vs three MoEs of its total width";
    }

    /** The families: the paper's at n=100, or a reduced set with the same structure for --quick. */
    static List<Family> families(boolean quick) {
        if (quick) {
            return List.of(new Family("dense m=8", Architecture.dense(40, 8)),
                    new Family("E4 k1 m=2", new Architecture(40, 2, 4, 1)),
                    new Family("E8 k2 m=1", new Architecture(40, 1, 8, 2)));
        }
        return List.of(new Family("dense m=20", Architecture.dense(100, 20)),
                new Family("E4 k1 m=5", new Architecture(100, 5, 4, 1)),
                new Family("E10 k2 m=2", new Architecture(100, 2, 10, 2)),
                new Family("E20 k5 m=1", new Architecture(100, 1, 20, 5)));
    }

    /** The paper's densities round(1 − i·0.9/29, 2), i = 0..29; quick uses 8 of them. */
    static double[] densities(boolean quick) {
        int count = quick ? 8 : 30;
        double[] d = new double[count];
        for (int i = 0; i < count; i++) {
            d[i] = Math.round((1 - i * 0.9 / (count - 1)) * 100) / 100.0;
        }
        return d;
    }

    @Override
    public Map<String, Object> run(ExperimentContext ctx) {
        boolean quick = ctx.quick();
        int runs = lossFigure ? ctx.seeds(5, 2) : 1;
        TrainingConfig config = TrainingConfig.paperDefaults().withSteps(ctx.steps(10_000, 1500))
                .withBatch(quick ? 512 : 1024);
        double[] density = densities(quick);
        Map<String, double[][]> fpdSeries = new LinkedHashMap<>();
        Map<String, double[][]> lossSeries = new LinkedHashMap<>();
        List<Map<String, Object>> families = new ArrayList<>();
        List<String> files = new ArrayList<>();
        ConsoleSummary console = ConsoleSummary.training(config)
                .setting("families", families(quick).stream()
                        .map(f -> f.label() + " (n=" + f.arch().features() + ")").toList())
                .setting("densities", ConsoleSummary.range(density))
                .setting("runs per point", runs);
        double[] x = new double[density.length];
        for (int c = 0; c < density.length; c++) {
            x[c] = 1 / density[c];
        }
        for (Family f : families(quick)) {
            int n = f.arch().features();
            InstanceSpec[] specs = new InstanceSpec[density.length * runs];
            for (int c = 0; c < density.length; c++) {
                for (int r = 0; r < runs; r++) {
                    specs[c * runs + r] = new InstanceSpec(InstanceSpec.uniformDensity(n, density[c]),
                            Importance.uniform(n), RouterInit.XAVIER,
                            ctx.instanceSeed(name() + " " + f.label(), c * runs + r),
                            String.format("%s p=%.2f run=%d", f.label(), density[c], r));
                }
            }
            TrainResult result = ctx.train(f.arch(), config, specs, name() + " " + f.label());
            double[] fpd = new double[density.length];
            double[] meanLoss = new double[density.length];
            double[] meanLastLoss = new double[density.length];
            double[] sdLoss = new double[density.length];
            for (int c = 0; c < density.length; c++) {
                for (int r = 0; r < runs; r++) {
                    int inst = c * runs + r;
                    float[][] xs = ExpertUsage.sample(specs[inst], 1024,
                            new SplittableRandom(ctx.instanceSeed("fpd samples", inst)));
                    fpd[c] += ExpertUsage.moeFeaturesPerDimension(result.weights(), inst, xs) / runs;
                    meanLoss[c] += result.heldOutLoss()[inst] / runs;
                    meanLastLoss[c] += result.lastRecon()[inst] / runs;
                }
                // run-to-run spread, so a reader can tell a gap between families from seed noise
                for (int r = 0; r < runs && runs > 1; r++) {
                    double dev = result.heldOutLoss()[c * runs + r] - meanLoss[c];
                    sdLoss[c] += dev * dev / (runs - 1);
                }
                sdLoss[c] = Math.sqrt(sdLoss[c]);
            }
            int last = density.length - 1;
            if (lossFigure) {
                console.headline("held-out loss, " + f.label(), String.format(java.util.Locale.ROOT,
                        "%s at density %s, %s at density %s", ConsoleSummary.format(meanLoss[0]),
                        ConsoleSummary.format(density[0]), ConsoleSummary.format(meanLoss[last]),
                        ConsoleSummary.format(density[last])));
            } else {
                console.headline("features per dimension, " + f.label(), String.format(java.util.Locale.ROOT,
                        "%s at density %s, %s at density %s", ConsoleSummary.format(Geometry.round(fpd)[0]),
                        ConsoleSummary.format(density[0]), ConsoleSummary.format(Geometry.round(fpd)[last]),
                        ConsoleSummary.format(density[last])));
            }
            fpdSeries.put(f.label(), new double[][] {x, fpd});
            lossSeries.put(f.label(), new double[][] {x, meanLoss});
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("label", f.label());
            m.put("architecture", f.arch());
            m.put("features_per_dimension", Geometry.round(fpd));
            m.put("mean_held_out_loss", meanLoss);
            m.put("mean_last_step_loss", meanLastLoss);
            if (runs > 1) {
                m.put("sd_held_out_loss", sdLoss);
            }
            m.put("seconds", result.seconds());
            m.put("model_steps_per_second", result.modelStepsPerSecond());
            families.add(m);
            files.add(ctx.save(name() + "-" + f.label().replace(' ', '_').replace("=", ""), result));
        }
        Figures.lines(ctx.out().resolve(name() + "-features-per-dimension.png"),
                "Features per dimension vs 1/(1−S)", "1/(1−S)", "features per dimension", true, false,
                fpdSeries, new double[] {1.0, 2.0});
        Figures.lines(ctx.out().resolve(name() + "-loss.png"), "Final loss vs 1/(1−S) (" + runs + " runs)",
                "1/(1−S)", "held-out loss (mean over batch and features)", true, true, lossSeries, null);
        files.add(name() + "-features-per-dimension.png");
        files.add(name() + "-loss.png");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("densities", density);
        out.put("x_inverse_density", x);
        out.put("runs_per_point", runs);
        out.put("families", families);
        out.put("files", files);
        return console.into(out);
    }
}
