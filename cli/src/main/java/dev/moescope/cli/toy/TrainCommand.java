package dev.moescope.cli.toy;

import dev.moescope.cli.CommonOptions;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.PreviousRun;
import dev.moescope.core.error.Require;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.toy.experiments.CustomTraining;
import dev.moescope.toy.experiments.ExperimentContext;
import dev.moescope.toy.experiments.Summaries;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.Importance;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.RouterInit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code moescope toy train}: one custom dense or MoE toy model configuration. */
@Command(name = "train",
        mixinStandardHelpOptions = true,
        description = {"Train one toy model configuration (dense: --experts 1) and measure its superposition.",
            "Writes summary.json, model.safetensors (W, b, gate, per seed), model-bars.png and model-gram.png."},
        footer = {"", "Example:",
            "  moescope toy train --n 20 --m 5 --experts 4 --k 1 --sparsity 0.9 \\",
            "      --importance-decay 0.7 --router-init xavier --steps 10000 --seeds 3 \\",
            "      --out runs/moe20"})
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--n", paramLabel = "N", required = true, description = "Number of features.")
    int n;

    @Option(names = "--m", paramLabel = "M", required = true, description = "Hidden dimensions per expert.")
    int m;

    @Option(names = "--experts", paramLabel = "E", defaultValue = "1",
            description = "Number of experts E (default: ${DEFAULT-VALUE} = dense).")
    int experts;

    @Option(names = "--k", paramLabel = "K", defaultValue = "1",
            description = "Active experts per input (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--sparsity", paramLabel = "S", required = true,
            description = "Feature sparsity S in [0, 1): density 1 − S.")
    double sparsity;

    @Option(names = "--importance-decay", paramLabel = "R", defaultValue = "1.0",
            description = "Importance I_i = decay^i (default: 1 = uniform).")
    double decay;

    @Option(names = "--router-init", paramLabel = "INIT", defaultValue = "xavier",
            description = "zero, xavier, diagonal, ordered-k-hot or random-k-hot (default: ${DEFAULT-VALUE}).")
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
        Architecture arch = new Architecture(n, m, experts, k);
        Require.inHalfOpen("sparsity S", sparsity, 0, 1);
        Require.positive("importance decay", decay);
        CustomTraining.Request req = new CustomTraining.Request(arch, training.config(),
                InstanceSpec.uniformDensity(n, 1 - sparsity), Importance.geometric(n, decay),
                RouterInit.parse(routerInit), training.seeds, training.criterion());
        PreviousRun.refuse(out, "toy train run", false, "summary.json");
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw MoescopeException.failure(out + ": cannot create output directory: " + e.getMessage(), e);
        }
        Provenance prov = Provenance.start("toy train").parameter("seed", common.seed)
                .parameter("architecture", arch.label()).parameter("sparsity", sparsity)
                .parameter("importance_decay", decay).parameter("router_init", routerInit)
                .parameter("training", req.config()).parameter("seeds", training.seeds)
                .parameter("select", training.select).build();
        Map<String, Object> results = CustomTraining.run(
                new ExperimentContext(out, false, common.seed, common.threads, prov), req);
        Path summary = Summaries.write(out, "toy train", results, prov);
        PrintWriter pw = spec.commandLine().getOut();
        pw.printf("trained %s at S=%s (%d seed(s), %.1f s)%n", arch.label(), sparsity, training.seeds,
                results.get("seconds"));
        pw.printf("  held-out loss %.6g, features per dimension %.4f%n", results.get("held_out_loss"),
                results.get("features_per_dimension"));
        pw.printf("  wrote %s%n", summary);
        pw.flush();
        return 0;
    }
}
