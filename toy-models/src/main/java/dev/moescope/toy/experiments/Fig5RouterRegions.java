package dev.moescope.toy.experiments;

import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.Importance;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.LossReduction;
import dev.moescope.toy.model.RouterInit;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.model.ToyWeights;
import dev.moescope.toy.plot.Figures;
import dev.moescope.toy.train.ToyKernel;
import dev.moescope.toy.train.TrainResult;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MoE paper Fig 5: which expert wins where on [0,1]² for n=2, m=1, E=3, k=1, p=0.5, I=1, batch 100, with the
 * paper's early stopping, under zero, Xavier and diagonal router inits. Top-1 routing gives the router no
 * reconstruction gradient, so the regions are those of the initial router (shrunk uniformly by weight decay).
 */
public final class Fig5RouterRegions implements Experiment {

    static final int GRID = 100;

    @Override
    public String name() {
        return "fig5";
    }

    @Override
    public String description() {
        return "MoE paper Fig 5: router regions of n=2, m=1, E=3 under zero, Xavier and diagonal inits";
    }

    @Override
    public Map<String, Object> run(ExperimentContext ctx) {
        RouterInit[] inits = {RouterInit.ZERO, RouterInit.XAVIER, RouterInit.DIAGONAL};
        // the paper shows one run per init; its losses depend on the seed (Xavier output biases can start a
        // feature's ReLU dead), so every init is trained from several seeds and compared on medians
        int seeds = ctx.seeds(10, 3);
        TrainingConfig config = TrainingConfig.paperDefaults().withReduction(LossReduction.SUM_FEATURES)
                .withBatch(100).withSteps(ctx.steps(10_000, 3000))
                .withEarlyStop(TrainingConfig.EarlyStop.fig5());
        InstanceSpec[] specs = new InstanceSpec[inits.length * seeds];
        for (int i = 0; i < inits.length; i++) {
            for (int r = 0; r < seeds; r++) {
                // replicate r of every init shares its seed: same W and b start, only the router differs
                specs[i * seeds + r] = new InstanceSpec(InstanceSpec.uniformDensity(2, 0.5), Importance.uniform(2),
                        inits[i], ctx.instanceSeed("fig5", r), inits[i].cliName() + " seed " + r);
            }
        }
        Architecture arch = new Architecture(2, 1, 3, 1);
        TrainResult result = ctx.train(arch, config, specs, "fig5");
        List<int[][]> maps = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("seeds", seeds);
        double[][] finalLoss = new double[inits.length][seeds];
        double[] medians = new double[inits.length];
        for (int i = 0; i < inits.length; i++) {
            int shown = i * seeds; // replicate 0 is the one drawn
            int[][] map = regions(result.weights(), shown);
            maps.add(map);
            titles.add(String.format("%s  loss %.4f", inits[i].cliName(), result.lastLoss()[shown]));
            double[] share = regionShare(map, arch.experts());
            double[] heldOut = new double[seeds];
            double[] agreement = new double[seeds];
            double[] shareOfExpert0 = new double[seeds];
            int[] expertsUsed = new int[seeds];
            for (int r = 0; r < seeds; r++) {
                finalLoss[i][r] = result.lastLoss()[i * seeds + r];
                heldOut[r] = result.heldOutLoss()[i * seeds + r];
                int[][] mr = regions(result.weights(), i * seeds + r);
                agreement[r] = splitAgreement(mr);
                double[] sr = regionShare(mr, arch.experts());
                shareOfExpert0[r] = sr[0];
                expertsUsed[r] = (int) java.util.Arrays.stream(sr).filter(v -> v > 0).count();
            }
            medians[i] = median(finalLoss[i]);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("region_share_per_expert", share);
            m.put("experts_used", (int) java.util.Arrays.stream(share).filter(v -> v > 0).count());
            m.put("final_loss", result.lastLoss()[shown]);
            m.put("held_out_loss", result.heldOutLoss()[shown]);
            m.put("steps_run", result.stepsRun()[shown]);
            m.put("agreement_with_x1_gt_x2_split", splitAgreement(map));
            m.put("router", result.weights().routerMatrix(shown));
            m.put("final_loss_per_seed", finalLoss[i]);
            m.put("held_out_loss_per_seed", heldOut);
            m.put("median_final_loss", medians[i]);
            m.put("median_held_out_loss", median(heldOut));
            m.put("agreement_with_x1_gt_x2_split_per_seed", agreement);
            m.put("share_of_expert_0_per_seed", shareOfExpert0);
            // a Xavier router gives the whole positive quadrant to one expert when that expert has the largest
            // weight on both features (probability 1/3 for i.i.d. rows)
            m.put("experts_used_per_seed", expertsUsed);
            out.put(inits[i].cliName(), m);
        }
        // the paper's ordering (inferred): diagonal ≤ Xavier ≤ zero
        int ordered = 0;
        for (int r = 0; r < seeds; r++) {
            ordered += finalLoss[2][r] <= finalLoss[1][r] && finalLoss[1][r] <= finalLoss[0][r] ? 1 : 0;
        }
        out.put("ordering_diagonal_le_xavier_le_zero_on_medians", medians[2] <= medians[1] && medians[1] <= medians[0]);
        out.put("seeds_with_ordering", ordered);
        Figures.categoricalMaps(ctx.out().resolve("fig5-regions.png"),
                "Fig 5: top-1 expert over (x1 →, x2 ↓ from 0 at top) in [0,1]²", maps, titles, "x1 → , x2 ↓");
        // every seed: the figure's variety (a Xavier router may give the whole quadrant to one expert)
        List<int[][]> all = new ArrayList<>();
        List<String> allTitles = new ArrayList<>();
        for (int i = 0; i < inits.length; i++) {
            for (int r = 0; r < seeds; r++) {
                all.add(regions(result.weights(), i * seeds + r));
                allTitles.add(String.format("%s s%d %.3f", inits[i].cliName(), r, finalLoss[i][r]));
            }
        }
        Figures.categoricalMaps(ctx.out().resolve("fig5-regions-all-seeds.png"),
                "Fig 5, every seed (rows: zero, xavier, diagonal router; title: final loss)", all, allTitles,
                "x1 →, x2 ↓", seeds, "expert");
        out.put("files", List.of(ctx.save("fig5", result), "fig5-regions.png", "fig5-regions-all-seeds.png"));
        out.put("seconds", result.seconds());
        ConsoleSummary console = ConsoleSummary.training(config).setting("model", "MoE n=2 m=1 E=3 k=1")
                .setting("seeds per router init", seeds);
        for (RouterInit init : inits) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) out.get(init.cliName());
            console.headline("median final loss, " + init.cliName() + " router", m.get("median_final_loss"));
        }
        return console.headline("seeds with final loss diagonal <= xavier <= zero", ordered + " of " + seeds)
                .into(out);
    }

    private static double[] regionShare(int[][] map, int experts) {
        double[] share = new double[experts];
        for (int[] row : map) {
            for (int e : row) {
                share[e] += 1.0 / (GRID * GRID);
            }
        }
        return share;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** Top-1 expert at the centre of each cell of a GRID × GRID map of [0,1]²: map[row = x2][col = x1]. */
    static int[][] regions(ToyWeights w, int instance) {
        float[][] x = new float[GRID * GRID][2];
        for (int r = 0; r < GRID; r++) {
            for (int c = 0; c < GRID; c++) {
                x[r * GRID + c][0] = (c + 0.5f) / GRID;
                x[r * GRID + c][1] = (r + 0.5f) / GRID;
            }
        }
        int[][] out = new int[GRID][GRID];
        ToyKernel kernel = new ToyKernel(w.architecture(), 1024);
        for (int start = 0; start < x.length; start += 1024) {
            float[][] chunk = java.util.Arrays.copyOfRange(x, start, Math.min(x.length, start + 1024));
            int[][] routes = kernel.routeBatch(w, instance, chunk);
            for (int s = 0; s < chunk.length; s++) {
                out[(start + s) / GRID][(start + s) % GRID] = routes[s][0];
            }
        }
        return out;
    }

    /** Fraction of off-diagonal cells where expert 0 wins iff x1 &gt; x2 and expert 1 iff x2 &gt; x1. */
    static double splitAgreement(int[][] map) {
        int ok = 0;
        int total = 0;
        for (int r = 0; r < GRID; r++) {
            for (int c = 0; c < GRID; c++) {
                if (r == c) {
                    continue;
                }
                total++;
                ok += map[r][c] == (c > r ? 0 : 1) ? 1 : 0;
            }
        }
        return (double) ok / total;
    }
}
