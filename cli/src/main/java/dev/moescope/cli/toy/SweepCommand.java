package dev.moescope.cli.toy;

import dev.moescope.cli.CommonOptions;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.PreviousRun;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.toy.experiments.CustomSweep;
import dev.moescope.toy.experiments.ExperimentContext;
import dev.moescope.toy.experiments.Summaries;
import dev.moescope.toy.model.RouterInit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code moescope toy sweep}: a grid over S × last-feature importance × E × k × router init, one batched run per (E, k). */
@Command(name = "sweep",
        mixinStandardHelpOptions = true,
        description = {
            "Train a grid of toy models: sparsity × last-feature importance × experts × k × router "
                    + "init.",
            "Each (E, k) pair is one batched run of every cell and seed. Lists are 'a,b,c' or "
                    + "'start:stop:step'.",
            "Writes summary.json (per cell: losses, features per dimension, usage, last-feature class"
                    + " per expert), sweep-<arch>.safetensors per (E, k), and a features-per-dimension plot."},
        footer = {"", "Example:",
            "  moescope toy sweep --n 3 --m 2 --sparsity 0.1:0.9:0.2 \\",
            "      --last-importance 0.5,1,2 --experts 1,2 --k 1 --load-balancing 0.01 \\",
            "      --steps 2000 --seeds 3 --out runs/sweep"})
public final class SweepCommand implements Callable<Integer> {

    @Option(names = "--n", paramLabel = "N", required = true, description = "Number of features.")
    int n;

    @Option(names = "--m", paramLabel = "M", required = true, description = "Hidden dimensions per expert.")
    int m;

    @Option(names = "--sparsity", paramLabel = "LIST", required = true, description = "S values in [0, 1).")
    String sparsity;

    @Option(names = "--last-importance", paramLabel = "LIST",
            description = "Last-feature importance values (others 1).")
    String lastImportance;

    @Option(names = "--importance-decay", paramLabel = "R", defaultValue = "1.0",
            description = "Without --last-importance: I_i = decay^i (default: 1).")
    double decay;

    @Option(names = "--experts", paramLabel = "LIST", defaultValue = "1", description = "E values (default: 1).")
    String experts;

    @Option(names = "--k", paramLabel = "LIST", defaultValue = "1",
            description = "k values; pairs with k > E are skipped (default: 1).")
    String k;

    @Option(names = "--router-init", paramLabel = "INITS", defaultValue = "xavier",
            description = "Comma list of router inits.")
    String routerInit;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output directory (created).")
    Path out;

    @CommandLine.Mixin
    ToyOptions training;

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        List<RouterInit> inits = new ArrayList<>();
        for (String s : routerInit.split(",")) {
            inits.add(RouterInit.parse(s));
        }
        CustomSweep.Request req = new CustomSweep.Request(n, m, ToyOptions.doubles("--sparsity", sparsity),
                lastImportance == null ? null : ToyOptions.doubles("--last-importance", lastImportance), decay,
                ToyOptions.ints("--experts", experts), ToyOptions.ints("--k", k), inits, training.seeds,
                training.criterion(), training.config());
        PreviousRun.refuse(out, "toy sweep run", false, "summary.json");
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw MoescopeException.failure(out + ": cannot create output directory: " + e.getMessage(), e);
        }
        Provenance prov = Provenance.start("toy sweep").parameter("seed", common.seed).parameter("n", n)
                .parameter("m", m).parameter("sparsity", sparsity).parameter("last_importance", lastImportance)
                .parameter("importance_decay", decay).parameter("experts", experts).parameter("k", k)
                .parameter("router_init", routerInit).parameter("training", req.config())
                .parameter("seeds", training.seeds).parameter("select", training.select).build();
        long t0 = System.nanoTime();
        Map<String, Object> results = CustomSweep.run(
                new ExperimentContext(out, false, common.seed, common.threads, prov), req);
        Path summary = Summaries.write(out, "toy sweep", results, prov);
        PrintWriter pw = spec.commandLine().getOut();
        pw.printf("trained %d cells x %d seed(s) in %.1f s%n", ((List<?>) results.get("cells")).size(),
                training.seeds, (System.nanoTime() - t0) / 1e9);
        pw.printf("  wrote %s%n", summary);
        pw.flush();
        return 0;
    }
}
