package dev.moescope.cli.toy;

import dev.moescope.cli.CommonOptions;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.PreviousRun;
import dev.moescope.core.io.FileTrees;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.toy.experiments.ConsoleSummary;
import dev.moescope.toy.experiments.Experiment;
import dev.moescope.toy.model.BiasInit;
import dev.moescope.toy.model.RouterGradient;
import dev.moescope.toy.experiments.ExperimentContext;
import dev.moescope.toy.experiments.Experiments;
import dev.moescope.toy.experiments.Summaries;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code moescope toy reproduce NAME}: one of the papers' figures or tables, or {@code all} of them. */
@Command(name = "reproduce",
        mixinStandardHelpOptions = true,
        description = {
            "Reproduce a figure or table of Toy Models of Superposition or of the MoE superposition "
                    + "paper.",
            "Writes summary.json (key numbers + provenance), the trained weights (safetensors, gates "
                    + "included) and PNG plots into --out, and prints the settings it ran with and its headline"
                    + " numbers.",
            "NAME is one of: tms-intro, tms-geometry, fig1, fig2, fig3, loss, fig4, fig5, fig6, "
                    + "table1, or 'all' (each into its own subdirectory).",
            "Every finished training batch is kept in --out/checkpoints until the experiment's summary is "
                    + "written, so an interrupted run continues with --resume instead of starting over."},
        footer = {"", "Examples:", "  moescope toy reproduce fig2 --out runs/fig2 --quick --seed 1",
            "  moescope toy reproduce loss --out runs/loss --threads 2",
            "  # after an interruption, the same command with --resume:",
            "  moescope toy reproduce loss --out runs/loss --threads 2 --resume"})
public final class ReproduceCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "NAME", description = "Experiment name, or 'all'.")
    String name;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (created).")
    Path out;

    @Option(names = "--quick", description = "Reduced settings that finish in under a minute each.")
    boolean quick;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "0",
            description = "Override the experiment's training steps (a reduced run; recorded in summary.json).")
    int steps;

    @Option(names = "--seeds", paramLabel = "N", defaultValue = "0",
            description = "Override the seeds (runs) per cell.")
    int seeds;

    @Option(names = "--only", paramLabel = "CONFIG", split = ",",
            description = "Parts to run; fig4: configuration names, e.g. A.E1,C.E3.")
    List<String> only = new ArrayList<>();

    @Option(names = "--bias-init", paramLabel = "INIT",
            description = "Override every experiment's output-bias init: 'xavier' (the MoE paper's released code) "
                    + "or 'zero' (Anthropic; the MoE authors' code before Aug 2025).")
    String biasInit;

    @Option(names = "--router-gradient", paramLabel = "MODE",
            description = "Top-1 router gradient from the reconstruction loss: 'exact' (zero, the default) or "
                    + "'pytorch-float32' (the ulp-sized residue PyTorch's autograd leaves, which AdamW amplifies).")
    String routerGradient;

    @Option(names = "--resume",
            description = "Continue an interrupted run in --out: finished experiments (those with a summary.json) "
                    + "are kept, and training batches found in --out/checkpoints are loaded instead of trained. "
                    + "A batch whose settings differ (another --seed, --steps, ...) is trained afresh, and with "
                    + "nothing to resume the run starts from the beginning.")
    boolean resume;

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter pw = spec.commandLine().getOut();
        // parse the overrides before anything is written
        BiasInit bias = biasInit == null ? null : BiasInit.parse(biasInit);
        RouterGradient rg = routerGradient == null ? null : RouterGradient.parse(routerGradient);
        List<Experiment> todo = new ArrayList<>();
        if (name.equals("all")) {
            todo.addAll(Experiments.all().values());
        } else {
            todo.add(Experiments.byName(name));
        }
        for (Experiment e : todo) { // refuse before anything runs: 'all' must not stop half way on a kept run
            if (!resume) {
                PreviousRun.refuse(dir(todo, e), "toy reproduce run", true, "summary.json",
                        ExperimentContext.CHECKPOINTS);
            }
        }
        for (Experiment e : todo) {
            Path dir = dir(todo, e);
            if (resume && Files.exists(dir.resolve("summary.json"))) {
                pw.printf("%s: finished in an earlier run, kept (%s)%n", e.name(), dir.resolve("summary.json"));
                continue;
            }
            run(e, dir, pw, bias, rg);
        }
        pw.flush();
        return 0;
    }

    private static void deleteCheckpoints(Path dir) {
        try {
            FileTrees.delete(dir);
        } catch (IOException ex) {
            throw MoescopeException.failure(dir + ": cannot remove the finished run's checkpoints: "
                    + ex.getMessage(), ex);
        }
    }

    /** One experiment writes into --out itself; 'all' writes each into --out/NAME. */
    private Path dir(List<Experiment> todo, Experiment e) {
        return todo.size() == 1 ? out : out.resolve(e.name());
    }

    private void run(Experiment e, Path dir, PrintWriter pw, BiasInit bias, RouterGradient rg) {
        try {
            Files.createDirectories(dir);
        } catch (IOException ex) {
            throw MoescopeException.failure(dir + ": cannot create output directory: " + ex.getMessage(), ex);
        }
        String command = "toy reproduce " + e.name();
        Provenance prov = Provenance.start(command).parameter("seed", common.seed).parameter("quick", quick)
                .parameter("threads", common.threads).parameter("out", dir).parameter("steps_override", steps)
                .parameter("seeds_override", seeds).parameter("only", only)
                .parameter("bias_init_override", biasInit == null ? "" : biasInit)
                .parameter("router_gradient_override", routerGradient == null ? "" : routerGradient)
                .parameter("resume", resume).build();
        long t0 = System.nanoTime();
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("experiment", e.name());
        results.put("description", e.description());
        results.put("quick", quick);
        results.put("steps_override", steps);
        results.put("seeds_override", seeds);
        results.put("bias_init_override", bias == null ? "" : bias.cliName());
        results.put("router_gradient_override", rg == null ? "" : rg.cliName());
        results.putAll(e.run(new ExperimentContext(dir, quick, common.seed, common.threads, prov, steps, seeds, only,
                bias, rg, true)));
        Path summary = Summaries.write(dir, command, results, prov);
        deleteCheckpoints(dir.resolve(ExperimentContext.CHECKPOINTS)); // the summary and saved models now hold it all
        pw.printf("%s: %s%n", e.name(), e.description());
        // what actually ran (after --quick, --steps, --seeds, --only) and the experiment's headline numbers
        ConsoleSummary.lines(results).forEach(line -> pw.printf("  %s%n", line));
        pw.printf("  wrote %s (%.1f s)%n", summary, (System.nanoTime() - t0) / 1e9);
        pw.flush();
    }
}
