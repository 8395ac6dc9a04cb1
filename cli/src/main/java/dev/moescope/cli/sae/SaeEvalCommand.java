package dev.moescope.cli.sae;

import ai.djl.engine.Engine;
import dev.moescope.cli.CommonOptions;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.sae.data.ActivationSource;
import dev.moescope.sae.data.StoreSource;
import dev.moescope.sae.eval.CeRecovery;
import dev.moescope.sae.eval.SaeEvaluation;
import dev.moescope.store.manifest.Manifest;
import dev.moescope.store.stream.DocumentSplit;
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
        description = {
            "Evaluate a trained SAE on the held-out rows of the source it was trained on.",
            "Reports FVE (pooled, centred, per token), MSE, L0 (threshold and batch top-k), "
                    + "dead/dense fractions, a log10 density histogram, cos(x, x^) and |x^|/|x|; on synthetic "
                    + "data also the recovery of the true dictionary.",
            "On a store, also the top-activating contexts of every latent from the store's tokens "
                    + "(token strings if stored, else ids; with document id, domain, position).",
            "On a store recorded by `probe run`, also CE loss recovered: (CE_zero - CE_sae)/(CE_zero "
                    + "- CE_clean) on the held-out documents re-run through the model (zero ablation; the mean-"
                    + "ablation variant too), after checking that the model's hash and the clean hook match the"
                    + " store.",
            "Writes OUT/summary.json, OUT/density.png (OUT/recovery.png on synthetic data, "
                    + "OUT/contexts.csv and OUT/contexts.json on a store)."},
        footer = {"", "Example:", "  moescope sae eval runs/sae-synth",
                "  moescope sae eval runs/sae-l3 --store runs/store  # + contexts, CE loss",
                "  moescope sae eval runs/sae-l3 --store runs/store --model moved/model.onnx"})
public final class SaeEvalCommand implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RUN", description = "A directory written by `sae train`.")
    Path run;

    @Option(names = "--store", paramLabel = "STORE", description = "Evaluate on this activation store's validation "
            + "documents (split by the seed the run recorded, else --seed), and write top-activating contexts.")
    Path store;

    @Option(names = "--hook", paramLabel = "HOOK", description = "With --store: the hook (default: the one the run "
            + "was trained on).")
    String hook;

    @Option(names = "--contexts", paramLabel = "N", defaultValue = "10", description = "With a store: top-activating "
            + "contexts kept per latent, 0 for none (default: ${DEFAULT-VALUE}).")
    int contexts;

    @Option(names = "--ce", negatable = true, description = "With --store: CE loss recovered, by re-running the "
            + "store's held-out documents through its model with the hook spliced (SAE x^, zeros, mean). Default: "
            + "on for stores recorded by `probe run`, skipped with a note otherwise; --ce makes a store that cannot "
            + "give it an error (exit 3), --no-ce skips it.")
    Boolean ce;

    @Option(names = "--model", paramLabel = "PATH", description = "With --store: the ONNX model the store was "
            + "recorded with, if it moved from the path the manifest records (its SHA-256 must match).")
    Path model;

    @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default: RUN/eval).")
    Path out;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "4096",
            description = "Rows per evaluation batch, also the batch of batch top-k (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--dense-cutoff", paramLabel = "P", defaultValue = "0.1",
            description = "Density above which a latent counts as dense (default: ${DEFAULT-VALUE}).")
    double denseCutoff;

    @Override
    public Integer call() {
        SaeLensExport.RawSae sae = SaeLensExport.read(run);
        Map<String, String> src = sae.recordedSource();
        if (src.isEmpty() && store == null) {
            throw MoescopeException.badInput(run.resolve(SaeLensExport.CONFIG), "no moescope.source recorded; "
                    + "pass --store to say what to evaluate on");
        }
        if (store != null) {
            src.putAll(storeSource(sae, src));
        }
        Path dir = out != null ? out : run.resolve("eval");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw MoescopeException.failure(dir + ": cannot create: " + e.getMessage(), e);
        }
        Engine engine = DjlRuntime.pytorch(common.threads);
        try (ActivationSource s = SourceOptions.reopen(src)) {
            Provenance.Builder prov = Provenance.start("sae eval").parameter("run", run).parameter("batch", batch)
                    .parameter("dense_cutoff", denseCutoff).parameter("contexts", contexts).parameters(src)
                    .input(run.resolve(SaeLensExport.WEIGHTS));
            if (store != null) {
                prov.input(store.resolve(dev.moescope.store.manifest.Manifest.FILE_NAME));
            }
            if (s.width() != sae.width()) {
                throw MoescopeException.badInput(store, "width mismatch: hook " + src.get("store.hook") + " has width "
                        + s.width() + ", the SAE in " + run + " was trained on width " + sae.width());
            }
            CeRecovery.Result ceResult = ceLoss(engine, sae, src, prov);
            SaeEvaluation.run(engine, run, s, dir, batch, denseCutoff, contexts, common.threads, prov, ceResult,
                    spec.commandLine().getOut());
        }
        return 0;
    }

    /** CE loss recovered on the store's held-out documents, or null when not asked for or not possible. */
    private CeRecovery.Result ceLoss(Engine engine, SaeLensExport.RawSae sae, Map<String, String> src,
                                     Provenance.Builder prov) {
        if (Boolean.FALSE.equals(ce)) {
            return null;
        }
        if (store == null) {
            if (Boolean.TRUE.equals(ce)) {
                throw MoescopeException.usage("--ce needs --store STORE (a store recorded by `probe run`)");
            }
            return null;
        }
        if (!CeRecovery.probeRecorded(Manifest.read(store)) && ce == null) {
            spec.commandLine().getErr().println("moescope: note: CE loss recovered skipped: it needs a store "
                    + "recorded by `moescope probe run`, " + store + " was not");
            return null;
        }
        prov.parameter("ce", true);
        if (model != null) {
            prov.parameter("model", model).input(model);
        }
        StoreSource.Spec s = StoreSource.Spec.from(src);
        return CeRecovery.compute(engine, sae, store, s.hook(), new DocumentSplit(s.seed(), s.validationFraction()),
                model, common.threads);
    }

    /** The store source to evaluate on: --store with the run's hook, seed and split unless overridden. */
    private Map<String, String> storeSource(SaeLensExport.RawSae sae, Map<String, String> recorded) {
        boolean fromStore = "store".equals(recorded.get("source"));
        String h = hook != null ? hook : fromStore ? recorded.get("store.hook")
                : sae.cfg().has("hook_name") ? sae.cfg().get("hook_name").getAsString() : null;
        if (h == null) {
            throw MoescopeException.usage("--store needs --hook HOOK: the run records no hook name");
        }
        long seed = fromStore ? Long.parseLong(recorded.get("store.seed")) : common.seed;
        double fraction = fromStore ? Double.parseDouble(recorded.get("store.validation_fraction")) : 0.1;
        Map<String, String> m = new LinkedHashMap<>();
        m.put("source", "store");
        m.put("store.path", store.toAbsolutePath().toString());
        m.put("store.hook", h);
        m.put("store.seed", Long.toString(seed));
        m.put("store.validation_fraction", Double.toString(fraction));
        m.put("store.buffer_batches", "1");
        return m;
    }
}
