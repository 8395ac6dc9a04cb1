package dev.moescope.toy.bench;

import dev.moescope.core.Seeds;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.toy.experiments.PhaseGrid;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.Importance;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.RouterInit;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.train.BatchTrainer;
import dev.moescope.toy.train.TrainResult;

import java.util.ArrayList;
import java.util.List;

/**
 * A benchmark workload: groups of instances (one architecture each) trained for a fixed number of steps.
 * {@code fig3}: n=100 at the 30 Fig 3 densities for dense m=20, E4k1 m5, E10k2 m2, E20k5 m1, batch 1024.
 * {@code fig4}: configuration C.E3 (n=3, m=2, E=3, k=1) on the 39 × 58 grid × seeds, batch 512, LB 0.01.
 * Matches {@code bench/toy/reference.py} exactly in model, data distribution, loss and optimizer.
 */
public final class ToyWorkload {

    /** One batched run of the workload. */
    public record Group(Architecture arch, TrainingConfig config, InstanceSpec[] specs) {
    }

    private final String name;
    private final List<Group> groups;

    private ToyWorkload(String name, List<Group> groups) {
        this.name = name;
        this.groups = groups;
    }

    /** The workload called {@code name} (fig3 or fig4) at {@code steps} steps and {@code seeds} seeds per cell. */
    public static ToyWorkload of(String name, int steps, int seeds, long seed) {
        List<Group> groups = new ArrayList<>();
        switch (name) {
            case "fig3" -> {
                double[] dens = new double[30];
                for (int i = 0; i < 30; i++) {
                    dens[i] = Math.round((1 - i * 0.9 / 29) * 100) / 100.0;
                }
                int[][] fams = {{20, 1, 1}, {5, 4, 1}, {2, 10, 2}, {1, 20, 5}};
                TrainingConfig cfg = base(steps, 1024, 0);
                for (int[] f : fams) {
                    Architecture arch = new Architecture(100, f[0], f[1], f[2]);
                    InstanceSpec[] specs = new InstanceSpec[dens.length * seeds];
                    for (int i = 0; i < specs.length; i++) {
                        specs[i] = new InstanceSpec(InstanceSpec.uniformDensity(100, dens[i / seeds]),
                                Importance.uniform(100), RouterInit.XAVIER,
                                Seeds.derive(seed, "bench fig3 " + arch.label() + "#" + i), "p=" + dens[i / seeds]);
                    }
                    groups.add(new Group(arch, cfg, specs));
                }
            }
            case "fig4" -> {
                double[] sparsity = PhaseGrid.sparsities(false);
                double[] importance = PhaseGrid.importances(false);
                Architecture arch = new Architecture(3, 2, 3, 1);
                InstanceSpec[] specs = new InstanceSpec[sparsity.length * importance.length * seeds];
                for (int i = 0; i < specs.length; i++) {
                    int cell = i / seeds;
                    specs[i] = new InstanceSpec(InstanceSpec.uniformDensity(3, 1 - sparsity[cell / importance.length]),
                            Importance.lastFeature(3, importance[cell % importance.length]), RouterInit.XAVIER,
                            Seeds.derive(seed, "bench fig4#" + i), "cell " + cell);
                }
                groups.add(new Group(arch, base(steps, 512, 0.01), specs));
            }
            default -> throw MoescopeException.usage("unknown workload '" + name + "' (expected fig3 or fig4)");
        }
        return new ToyWorkload(name, groups);
    }

    private static TrainingConfig base(int steps, int batch, double lb) {
        // one held-out sample: the timed loop is training, as in the reference
        return new TrainingConfig(batch, steps, 1e-3, 0.01, dev.moescope.toy.model.LossReduction.MEAN_FEATURES,
                dev.moescope.toy.model.BiasInit.XAVIER, lb, null, 1, Math.max(1, steps));
    }

    public String name() {
        return name;
    }

    public List<Group> groups() {
        return groups;
    }

    /** Total instance-steps. */
    public long modelSteps() {
        long t = 0;
        for (Group g : groups) {
            t += (long) g.specs().length * g.config().steps();
        }
        return t;
    }

    /** Trains every group; returns total wall seconds. */
    public double run(int threads) {
        double seconds = 0;
        for (Group g : groups) {
            TrainResult r = new BatchTrainer(g.arch(), g.config(), threads).train(g.specs(), "bench " + g.arch().label());
            seconds += r.seconds();
        }
        return seconds;
    }

    /**
     * Useful FLOPs per step of the whole workload as moescope's sparse kernel does them (multiply-adds count 2):
     * router 2·E·nnz, per selected expert h = Wᵀx 2·nnz·m, z = Wh 2·n·m, backward ≤ 4·n·m + 2·nnz·m.
     */
    public double sparseFlopsPerStep() {
        double total = 0;
        for (Group g : groups) {
            Architecture a = g.arch();
            for (InstanceSpec s : g.specs()) {
                double nnz = 0;
                for (float d : s.density()) {
                    nnz += d;
                }
                double perSample = (a.isDense() ? 0 : 2.0 * a.experts() * nnz)
                        + a.active() * (2.0 * nnz * a.hidden() + 2.0 * a.features() * a.hidden()
                        + 4.0 * a.features() * a.hidden() + 2.0 * nnz * a.hidden());
                total += perSample * g.config().batch();
            }
        }
        return total;
    }

    /** FLOPs per step of the dense reference formulation (every expert computed, x dense), forward + backward ≈ 3×. */
    public double denseFlopsPerStep() {
        double total = 0;
        for (Group g : groups) {
            Architecture a = g.arch();
            double perSample = 3 * (2.0 * a.experts() * a.features() * (2.0 * a.hidden() + 1));
            total += perSample * g.config().batch() * g.specs().length;
        }
        return total;
    }

    /** Bytes of parameters, gradients and AdamW moments touched per instance-step (float32), summed over the workload. */
    public double stateBytesPerStep() {
        double total = 0;
        for (Group g : groups) {
            Architecture a = g.arch();
            total += 4.0 * 4 * (a.weightSize() + 2.0 * a.biasSize()) * g.specs().length;
        }
        return total;
    }
}
