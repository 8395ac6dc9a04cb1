package dev.moescope.cli.sae;

import ai.djl.engine.Engine;
import com.google.gson.JsonObject;
import dev.moescope.cli.CommonOptions;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.sae.data.ActivationSource;
import dev.moescope.sae.eval.SaeEvaluation;
import dev.moescope.sae.io.SaeLensExport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code moescope sae eval}: metrics of a trained SAE on held-out activations. */
@Command(name = "eval",
        mixinStandardHelpOptions = true,
        description = {"Evaluate a trained SAE on the held-out rows of the source it was trained on: FVE (pooled, "
                + "centred, per token), MSE, L0 (threshold and batch top-k), dead/dense fractions, log10 density "
                + "histogram, cos(x, x^), |x^|/|x|; on synthetic data also recovery of the true dictionary.",
                "Writes OUT/summary.json, OUT/density.png (and OUT/recovery.png on synthetic data)."},
        footer = {"", "Example:", "  moescope sae eval runs/sae-synth"})
public final class SaeEvalCommand implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RUN", description = "A directory written by `sae train`.")
    Path run;

    @Option(names = "--store", paramLabel = "STORE", description = "Evaluate on an activation store instead.")
    Path store;

    @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default: RUN/eval).")
    Path out;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "4096", description = "Rows per evaluation batch, also the batch of batch top-k (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--dense-cutoff", paramLabel = "P", defaultValue = "0.1",
            description = "Density above which a latent counts as dense (default: ${DEFAULT-VALUE}).")
    double denseCutoff;

    @Override
    public Integer call() {
        if (store != null) {
            throw SourceOptions.storeNotAvailable();
        }
        SaeLensExport.RawSae sae = SaeLensExport.read(run);
        JsonObject recorded = sae.cfg().getAsJsonObject("moescope");
        if (recorded == null || !recorded.has("source")) {
            throw MoescopeException.badInput(run.resolve(SaeLensExport.CONFIG), "no moescope.source recorded; "
                    + "pass --store to say what to evaluate on");
        }
        Map<String, String> src = new LinkedHashMap<>();
        recorded.getAsJsonObject("source").entrySet().forEach(e -> src.put(e.getKey(), e.getValue().getAsString()));
        Path dir = out != null ? out : run.resolve("eval");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw MoescopeException.failure(dir + ": cannot create: " + e.getMessage(), e);
        }
        Engine engine = DjlRuntime.pytorch(common.threads);
        try (ActivationSource s = SourceOptions.reopen(src)) {
            Provenance.Builder prov = Provenance.start("sae eval").parameter("run", run).parameter("batch", batch)
                    .parameter("dense_cutoff", denseCutoff).parameters(src).input(run.resolve(SaeLensExport.WEIGHTS));
            SaeEvaluation.run(engine, run, s, dir, batch, denseCutoff, common.threads, prov,
                    spec.commandLine().getOut());
        }
        return 0;
    }
}
