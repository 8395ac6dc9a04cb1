package dev.moescope.cli.sae;

import ai.djl.engine.Engine;
import dev.moescope.cli.CommonOptions;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.sae.encode.StoreEncoding;
import dev.moescope.sae.io.SaeLensExport;
import dev.moescope.store.manifest.Manifest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code moescope sae encode}: latents of every store row, written back as a sparse hook. */
@Command(name = "encode",
        mixinStandardHelpOptions = true,
        description = {
            "Encode a store's hook with a trained SAE and add the latents to the same store as a "
                    + "sparse hook.",
            "Uses the inference threshold (pre > θ); the sparse hook holds the active indices and "
                    + "values per token, aligned row by row with the store's tokens.",
            "The store is changed atomically (new files, then the manifest); on error it stays as it "
                    + "was. Writes OUT/summary.json (default OUT: RUN/encode)."},
        footer = {"", "Example:",
                "  moescope sae encode runs/sae-l3 --store runs/store \\",
                "      --out-hook blocks.3.sae_latents",
                "  moescope store inspect runs/store"})
public final class SaeEncodeCommand implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RUN", description = "A directory written by `sae train`.")
    Path run;

    @Option(names = "--store", required = true, paramLabel = "STORE", description = "The store to encode and extend.")
    Path store;

    @Option(names = "--hook", paramLabel = "HOOK", description = "Hook to encode (default: the run's hook_name).")
    String hook;

    @Option(names = "--out-hook", required = true, paramLabel = "NAME", description = "Name of the new sparse hook.")
    String outHook;

    @Option(names = {"--skip-nonfinite", "--skip-bad-rows"},
            description = "Write no latents for rows with NaN/Inf instead of stopping with an error naming the row.")
    boolean skipNonFinite;

    @Option(names = "--out", paramLabel = "DIR", description = "Where summary.json goes (default: RUN/encode).")
    Path out;

    @Override
    public Integer call() {
        SaeLensExport.RawSae sae = SaeLensExport.read(run);
        String h = hook;
        if (h == null) {
            if (!sae.cfg().has("hook_name")) {
                throw MoescopeException.usage("--hook is needed: " + run.resolve(SaeLensExport.CONFIG)
                        + " records no hook_name");
            }
            h = sae.cfg().get("hook_name").getAsString();
        }
        Path dir = out != null ? out : run.resolve("encode");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw MoescopeException.failure(dir + ": cannot create: " + e.getMessage(), e);
        }
        Engine engine = DjlRuntime.pytorch(common.threads);
        Provenance.Builder prov = Provenance.start("sae encode").parameter("run", run).parameter("store", store)
                .parameter("hook", h).parameter("out_hook", outHook).parameter("skip_nonfinite", skipNonFinite)
                .input(run.resolve(SaeLensExport.WEIGHTS));
        if (Files.exists(store.resolve(Manifest.FILE_NAME))) {
            prov.input(store.resolve(Manifest.FILE_NAME));
        }
        StoreEncoding.run(engine, run, store, h, outHook, skipNonFinite, dir, prov, spec.commandLine().getOut());
        return 0;
    }
}
