package dev.moescope.toy.experiments;

import dev.moescope.toy.metrics.FeatureGeometry;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.BiasInit;
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

/**
 * TMS feature geometry: n=200, m=20, I=1, 20 densities p = 20^{−linspace(0,1,20)}; dimensions per feature
 * m/‖W‖_F² against 1/p on a log axis with the sticky fractions (1, 3/4, 2/3, 1/2, 2/5, 3/8, 1/3 …), and the
 * per-feature D_i. Anthropic's settings: zero bias, mean loss.
 */
public final class TmsGeometry implements Experiment {

    static final double[] STICKY = {1.0, 3.0 / 4, 2.0 / 3, 1.0 / 2, 2.0 / 5, 3.0 / 8, 1.0 / 3, 2.0 / 7};

    @Override
    public String name() {
        return "tms-geometry";
    }

    @Override
    public String description() {
        return "TMS geometry: dimensions per feature vs 1/(1-S), with sticky fractions";
    }

    @Override
    public Map<String, Object> run(ExperimentContext ctx) {
        boolean quick = ctx.quick();
        int n = quick ? 40 : 200;
        int m = quick ? 4 : 20;
        TrainingConfig config = TrainingConfig.paperDefaults().withBiasInit(BiasInit.ZERO)
                .withSteps(ctx.steps(10_000, 2000)).withBatch(quick ? 512 : 1024);
        double[] density = Geometry.logspace(20, 20);
        InstanceSpec[] specs = new InstanceSpec[density.length];
        for (int c = 0; c < density.length; c++) {
            specs[c] = new InstanceSpec(InstanceSpec.uniformDensity(n, density[c]), Importance.uniform(n),
                    RouterInit.ZERO, ctx.instanceSeed("tms-geometry", c), String.format("p=%.4f", density[c]));
        }
        TrainResult result = ctx.train(Architecture.dense(n, m), config, specs, "tms-geometry");
        double[] x = new double[density.length];
        double[] dStar = new double[density.length];
        double[] halfFraction = new double[density.length];
        double[] twoFifthsFraction = new double[density.length];
        List<double[]> perFeature = new ArrayList<>();
        for (int c = 0; c < density.length; c++) {
            float[][] w = result.weights().expertMatrix(c, 0);
            x[c] = 1 / density[c];
            dStar[c] = m / FeatureGeometry.frobeniusSquared(w);
            double[] d = FeatureGeometry.dimensionality(w);
            double[] norms = FeatureGeometry.norms(w);
            int represented = 0;
            int half = 0;
            int twoFifths = 0;
            for (int i = 0; i < n; i++) {
                if (norms[i] > 0.5) {
                    represented++;
                    half += Math.abs(d[i] - 0.5) <= 0.02 ? 1 : 0;
                    twoFifths += Math.abs(d[i] - 0.4) <= 0.02 ? 1 : 0;
                }
            }
            halfFraction[c] = represented == 0 ? 0 : (double) half / represented;
            twoFifthsFraction[c] = represented == 0 ? 0 : (double) twoFifths / represented;
            perFeature.add(Geometry.round(d));
        }
        Figures.lines(ctx.out().resolve("tms-geometry.png"), "Dimensions per feature m/‖W‖_F² vs 1/(1−S)",
                "1/(1−S)", "dimensions per feature", true, false, Map.of("D*", new double[][] {x, dStar}), STICKY);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("n", n);
        out.put("m", m);
        out.put("x_inverse_density", x);
        out.put("dimensions_per_feature", Geometry.round(dStar));
        out.put("fraction_represented_with_D_within_0_02_of_half", Geometry.round(halfFraction));
        out.put("fraction_represented_with_D_within_0_02_of_two_fifths", Geometry.round(twoFifthsFraction));
        out.put("feature_dimensionality", perFeature);
        out.put("files", List.of(ctx.save("tms-geometry", result), "tms-geometry.png"));
        out.put("seconds", result.seconds());
        int last = density.length - 1;
        return ConsoleSummary.training(config).setting("model", "dense n=" + n + " m=" + m)
                .setting("densities", ConsoleSummary.range(density))
                .headline("dimensions per feature at density " + ConsoleSummary.format(density[0]), dStar[0])
                .headline("dimensions per feature at density " + ConsoleSummary.format(density[last]), dStar[last])
                .headline("largest fraction of features at D = 1/2", max(halfFraction))
                .headline("largest fraction of features at D = 2/5", max(twoFifthsFraction)).into(out);
    }

    private static double max(double[] v) {
        return java.util.Arrays.stream(v).max().orElse(0);
    }
}
