package dev.moescope.toy.experiments;

import dev.moescope.toy.metrics.AnalyticPhase;
import dev.moescope.toy.metrics.AnalyticPhase.FeatureClass;
import dev.moescope.toy.metrics.ExpertUsage;
import dev.moescope.toy.metrics.FeatureGeometry;
import dev.moescope.toy.metrics.PhaseMap;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.Importance;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.RouterInit;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.model.ToyWeights;
import dev.moescope.toy.plot.Figures;
import dev.moescope.toy.train.BestOfSeeds;
import dev.moescope.toy.train.TrainResult;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MoE paper Fig 4: phase diagrams of the last feature over (sparsity S, last-feature importance) for eight
 * configurations A=(n2,m1) E∈{1,2}, B=(n3,m1) and C=(n3,m2) E∈{1,2,3}, k=1, LB loss on (α = 0.01), 5000 steps at
 * batch 512, best of 10 seeds per cell, on the paper's 39 × 58 grid; plus the exact analytic diagrams for n=2,m=1
 * and n=3,m=2. Each cell of every seed is one instance of one batched run per configuration.
 */
public final class PhaseDiagrams implements Experiment {

    /** One configuration of the figure. */
    record Config(String name, int n, int m, int experts) {
        Architecture arch() {
            return new Architecture(n, m, experts, 1);
        }
    }

    static final List<Config> CONFIGS = List.of(
            new Config("A.E1", 2, 1, 1), new Config("A.E2", 2, 1, 2),
            new Config("B.E1", 3, 1, 1), new Config("B.E2", 3, 1, 2), new Config("B.E3", 3, 1, 3),
            new Config("C.E1", 3, 2, 1), new Config("C.E2", 3, 2, 2), new Config("C.E3", 3, 2, 3));

    @Override
    public String name() {
        return "fig4";
    }

    @Override
    public String description() {
        return "MoE paper Fig 4: phase diagrams of the last feature per configuration, with the analytic diagrams";
    }

    @Override
    public Map<String, Object> run(ExperimentContext ctx) {
        boolean quick = ctx.quick();
        int seeds = ctx.seeds(10, 1);
        double[] sparsity = PhaseGrid.sparsities(quick);
        double[] importance = PhaseGrid.importances(quick);
        TrainingConfig config = TrainingConfig.paperDefaults().withBatch(quick ? 256 : 512)
                .withSteps(ctx.steps(5000, 1000)).withLoadBalancing(0.01);
        List<Config> chosen = CONFIGS.stream().filter(c -> ctx.only().isEmpty() || ctx.only().contains(c.name())).toList();
        if (chosen.isEmpty()) {
            throw dev.moescope.core.error.MoescopeException.usage("--only names no fig4 configuration (expected some of "
                    + CONFIGS.stream().map(Config::name).toList() + ")");
        }
        return runGrid(ctx, chosen, sparsity, importance, seeds, config);
    }

    /** Trains and analyses the given configurations on a grid (also used by the benchmark and tests). */
    static Map<String, Object> runGrid(ExperimentContext ctx, List<Config> configs, double[] sparsity,
                                       double[] importance, int seeds, TrainingConfig config) {
        int rows = sparsity.length;
        int cols = importance.length;
        List<Figures.PhasePanel> panels = new ArrayList<>();
        List<Map<String, Object>> summaries = new ArrayList<>();
        List<String> boxNames = new ArrayList<>();
        List<double[]> boxValues = new ArrayList<>();
        List<String> files = new ArrayList<>();
        ConsoleSummary console = ConsoleSummary.training(config)
                .setting("configurations", configs.stream().map(Config::name).toList())
                .setting("grid", rows + " sparsities x " + cols + " importances")
                .setting("sparsity S", ConsoleSummary.range(sparsity))
                .setting("importance", ConsoleSummary.range(importance))
                .setting("seeds per cell", seeds);
        for (Config cfg : configs) {
            InstanceSpec[] specs = new InstanceSpec[rows * cols * seeds];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    for (int s = 0; s < seeds; s++) {
                        int inst = (r * cols + c) * seeds + s;
                        specs[inst] = new InstanceSpec(InstanceSpec.uniformDensity(cfg.n(), 1 - sparsity[r]),
                                Importance.lastFeature(cfg.n(), importance[c]), RouterInit.XAVIER,
                                ctx.instanceSeed("fig4 " + cfg.name(), inst),
                                String.format("%s S=%.3f I=%.2f seed=%d", cfg.name(), sparsity[r], importance[c], s));
                    }
                }
            }
            TrainResult result = ctx.train(cfg.arch(), config, specs, "fig4 " + cfg.name());
            int[] best = BestOfSeeds.select(result, seeds, BestOfSeeds.Criterion.HELD_OUT);
            int[] bestAuthors = BestOfSeeds.select(result, seeds, BestOfSeeds.Criterion.LAST_BATCH);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("config", cfg.name());
            m.put("architecture", cfg.arch());
            List<Map<String, Object>> perExpert = new ArrayList<>();
            boolean[][] covered = new boolean[rows][cols];
            for (int e = 0; e < cfg.experts(); e++) {
                FeatureClass[][] classes = classes(result.weights(), best, e, rows, cols, covered);
                FeatureClass[][] classesAuthors = classes(result.weights(), bestAuthors, e, rows, cols, null);
                Map<String, Object> pe = new LinkedHashMap<>();
                String title = cfg.name().charAt(0) + "." + (e + 1) + "/" + cfg.experts();
                pe.put("panel", title);
                pe.put("roughness", PhaseMap.roughness(classes));
                pe.put("roughness_last_batch_selection", PhaseMap.roughness(classesAuthors));
                pe.put("fraction_not_represented", PhaseMap.fraction(classes, FeatureClass.NOT_REPRESENTED));
                pe.put("fraction_dedicated", PhaseMap.fraction(classes, FeatureClass.DEDICATED));
                pe.put("fraction_superposed", PhaseMap.fraction(classes, FeatureClass.SUPERPOSED));
                FeatureClass[][] analytic = PhaseMap.analytic(cfg.n(), cfg.m(), sparsity, importance);
                if (analytic != null && cfg.experts() == 1) {
                    pe.put("analytic_agreement", PhaseMap.agreement(classes, analytic));
                    pe.put("analytic_roughness", PhaseMap.roughness(analytic));
                }
                perExpert.add(pe);
                console.headline("roughness, panel " + title, pe.containsKey("analytic_agreement")
                        ? ConsoleSummary.format(pe.get("roughness")) + " (analytic "
                                + ConsoleSummary.format(pe.get("analytic_roughness")) + ", agreement "
                                + ConsoleSummary.format(pe.get("analytic_agreement")) + ")"
                        : pe.get("roughness"));
                panels.add(new Figures.PhasePanel(title, colours(result.weights(), best, e, rows, cols)));
            }
            int cov = 0;
            for (boolean[] row : covered) {
                for (boolean b : row) {
                    cov += b ? 1 : 0;
                }
            }
            double[] chosenLast = new double[best.length];
            double[] chosenHeld = new double[best.length];
            for (int i = 0; i < best.length; i++) {
                chosenLast[i] = result.lastLoss()[best[i]];
                chosenHeld[i] = result.heldOutLoss()[best[i]];
            }
            m.put("panels", perExpert);
            m.put("coverage", (double) cov / (rows * cols));
            m.put("median_last_step_loss_with_lb", ExpertUsage.median(chosenLast));
            m.put("median_held_out_recon_loss", ExpertUsage.median(chosenHeld));
            m.put("seconds", result.seconds());
            m.put("model_steps_per_second", result.modelStepsPerSecond());
            summaries.add(m);
            boxNames.add(cfg.name());
            boxValues.add(chosenLast);
            files.add(ctx.save("fig4-" + cfg.name(), result));
        }
        // analytic diagrams in the same colour scheme: white = ignored, blue = dedicated, red = superposed
        List<Figures.PhasePanel> analyticPanels = new ArrayList<>();
        Map<String, Object> analyticSummary = new LinkedHashMap<>();
        for (int[] nm : new int[][] {{2, 1}, {3, 2}}) {
            FeatureClass[][] a = PhaseMap.analytic(nm[0], nm[1], sparsity, importance);
            int[][][] rgb = new int[rows][cols][];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    rgb[r][c] = switch (a[r][c]) {
                        case NOT_REPRESENTED -> new int[] {255, 255, 255};
                        case DEDICATED -> new int[] {0, 0, 255};
                        case SUPERPOSED -> new int[] {255, 0, 0};
                    };
                }
            }
            analyticPanels.add(new Figures.PhasePanel("analytic n=" + nm[0] + " m=" + nm[1], rgb));
            analyticSummary.put("n" + nm[0] + "m" + nm[1] + "_roughness", PhaseMap.roughness(a));
        }
        double[] xr = {importance[0], importance[cols - 1]};
        double[] yr = {sparsity[0], sparsity[rows - 1]};
        Figures.phaseDiagrams(ctx.out().resolve("fig4-phase-diagrams.png"),
                "Fig 4: last feature; norm (white = 0) x superposition (blue -> red), per panel", panels,
                "importance", "S", xr, yr);
        Figures.phaseDiagrams(ctx.out().resolve("fig4-analytic.png"), "Analytic phase diagrams", analyticPanels,
                "importance", "S", xr, yr);
        Figures.boxPlot(ctx.out().resolve("fig4-loss-box.png"), "Final training loss (with LB) per configuration",
                boxNames, boxValues, "loss");
        files.add("fig4-phase-diagrams.png");
        files.add("fig4-analytic.png");
        files.add("fig4-loss-box.png");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("sparsity", sparsity);
        out.put("importance", importance);
        out.put("seeds_per_cell", seeds);
        out.put("selection", "held-out reconstruction loss (last-batch selection reported as *_last_batch_selection)");
        out.put("configs", summaries);
        out.put("analytic", analyticSummary);
        out.put("files", files);
        return console.into(out);
    }

    private static FeatureClass[][] classes(ToyWeights w, int[] best, int expert, int rows, int cols,
                                            boolean[][] covered) {
        FeatureClass[][] g = new FeatureClass[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                g[r][c] = PhaseMap.classifyLastFeature(w.expertMatrix(best[r * cols + c], expert));
                if (covered != null && g[r][c] != FeatureClass.NOT_REPRESENTED) {
                    covered[r][c] = true;
                }
            }
        }
        return g;
    }

    private static int[][][] colours(ToyWeights w, int[] best, int expert, int rows, int cols) {
        double[][] norm = new double[rows][cols];
        double[][] score = new double[rows][cols];
        double maxNorm = 0;
        double maxScore = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float[][] mat = w.expertMatrix(best[r * cols + c], expert);
                int last = mat.length - 1;
                norm[r][c] = FeatureGeometry.norms(mat)[last];
                score[r][c] = FeatureGeometry.selfInclusiveInterference(mat, last);
                maxNorm = Math.max(maxNorm, norm[r][c]);
                maxScore = Math.max(maxScore, score[r][c]);
            }
        }
        int[][][] rgb = new int[rows][cols][];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                rgb[r][c] = PhaseMap.colour(norm[r][c], score[r][c], maxNorm, maxScore);
            }
        }
        return rgb;
    }
}
