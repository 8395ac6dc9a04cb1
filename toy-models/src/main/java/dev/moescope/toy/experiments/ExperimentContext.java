package dev.moescope.toy.experiments;

import dev.moescope.core.Seeds;
import dev.moescope.core.error.Require;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.toy.io.ToyModelFile;
import dev.moescope.toy.io.TrainCheckpoint;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.BiasInit;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.RouterGradient;
import dev.moescope.toy.model.RouterInit;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.train.BatchTrainer;
import dev.moescope.toy.train.TrainResult;

import java.nio.file.Path;
import java.util.List;

/**
 * Where and how an experiment runs: output directory, quick or full, the run's seed and thread count, and the
 * provenance being recorded. Also the shared helpers experiments use to train and save.
 *
 * @param out        output directory (created by the caller)
 * @param quick      reduced settings that finish in under a minute
 * @param seed       the --seed every random choice derives from
 * @param threads    trainer threads (0 = one per core)
 * @param provenance provenance of the command, for saved models
 * @param steps      if positive, overrides the experiment's training steps (a reduced run, recorded in summary.json)
 * @param seeds      if positive, overrides the experiment's seeds (runs) per cell
 * @param only       if not empty, the parts of the experiment to run (fig4: configuration names such as A.E1)
 * @param biasInit   if not null, overrides every experiment's output-bias initialisation
 * @param routerGradient if not null, overrides the top-1 router gradient (exact, or PyTorch's float32 residue)
 * @param resumable  keep every finished training batch in {@code out/checkpoints}, and load a batch found there
 *                   instead of training it again: an interrupted run resumes where it stopped
 */
public record ExperimentContext(Path out, boolean quick, long seed, int threads, Provenance provenance, int steps,
                                int seeds, List<String> only, BiasInit biasInit, RouterGradient routerGradient,
                                boolean resumable) {

    /** The directory of a resumable run's finished training batches. */
    public static final String CHECKPOINTS = "checkpoints";

    public ExperimentContext {
        Require.notNull("output directory", out);
        Require.nonNegative("threads", threads);
        only = List.copyOf(only);
    }

    /** The experiment's own settings (no overrides). */
    public ExperimentContext(Path out, boolean quick, long seed, int threads, Provenance provenance) {
        this(out, quick, seed, threads, provenance, 0, 0, List.of(), null, null, false);
    }

    /** Training steps: the override if set, else {@code quickSteps} or {@code fullSteps}. */
    public int steps(int fullSteps, int quickSteps) {
        return steps > 0 ? steps : quick ? quickSteps : fullSteps;
    }

    /** Seeds or runs per cell: the override if set, else {@code quickSeeds} or {@code fullSeeds}. */
    public int seeds(int fullSeeds, int quickSeeds) {
        return seeds > 0 ? seeds : quick ? quickSeeds : fullSeeds;
    }

    /** Seed of instance {@code index} of group {@code purpose}: independent streams from the run's seed. */
    public long instanceSeed(String purpose, int index) {
        return Seeds.derive(seed, purpose + "#" + index);
    }

    /**
     * {@code seeds} instances of one setting that differ only in their seed (labelled {@code "seed r"}): the replicates
     * best-of-seeds selection chooses from.
     */
    public InstanceSpec[] seedReplicates(String purpose, int seeds, float[] density, float[] importance,
                                         RouterInit init) {
        InstanceSpec[] specs = new InstanceSpec[seeds];
        for (int r = 0; r < seeds; r++) {
            specs[r] = new InstanceSpec(density, importance, init, instanceSeed(purpose, r), "seed " + r);
        }
        return specs;
    }

    /** The bias initialisation an experiment trains with: the override if set, else its own. */
    public BiasInit biasInit(BiasInit own) {
        return biasInit != null ? biasInit : own;
    }

    /**
     * Trains specs with the given architecture and config (bias init and router gradient overridden, if set). In a
     * resumable run, a batch already finished (same architecture, config, instances and build) is loaded instead.
     */
    public TrainResult train(Architecture arch, TrainingConfig config, InstanceSpec[] specs, String task) {
        TrainingConfig c = config.withBiasInit(biasInit(config.biasInit()));
        if (routerGradient != null) {
            c = c.withRouterGradient(routerGradient);
        }
        if (!resumable) {
            return new BatchTrainer(arch, c, threads).train(specs, task);
        }
        String key = TrainCheckpoint.key(arch, c, specs, provenance.version() + " " + provenance.gitCommit());
        Path file = TrainCheckpoint.file(out.resolve(CHECKPOINTS), task, key);
        java.util.Optional<TrainResult> kept = TrainCheckpoint.load(file, key, arch, c, specs);
        if (kept.isPresent()) {
            System.err.printf("%s: kept from the interrupted run (%s)%n", task, out.relativize(file));
            return kept.get();
        }
        TrainResult r = new BatchTrainer(arch, c, threads).train(specs, task);
        TrainCheckpoint.save(file, r, key);
        return r;
    }

    /** Saves a trained batch as {@code <name>.safetensors} in the output directory and returns its file name. */
    public String save(String name, TrainResult result) {
        String file = name + ".safetensors";
        ToyModelFile.save(out.resolve(file), result, provenance);
        return file;
    }
}
