package dev.moescope.cli.store;

import dev.moescope.cli.CommonOptions;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.InputFile;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.export.HfExporter;
import dev.moescope.store.export.NpyExporter;
import dev.moescope.store.export.ParquetExporter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code moescope store export STORE --format hf|parquet|npy --out DIR}. */
@Command(name = "export",
        mixinStandardHelpOptions = true,
        description = {
            "Export a store for other tools (hf, parquet, npy).",
            "--format hf writes a Hugging Face datasets directory (load_from_disk), one row per "
                    + "token; with --sequences --context N, one row per N-token window in Array2D columns "
                    + "(SAELens cached activations).",
            "--format parquet writes Parquet files (Arrow's C++ writer) for Spark, DuckDB, Polars, "
                    + "pyarrow.",
            "--format npy writes one .npy per hook and routing array, plus tokens.csv."},
        footer = {"", "Example:",
            "  moescope store export runs/probe/store --format hf --sequences \\",
            "      --context 128 --hook blocks.1.resid_post --out runs/hf"})
public final class ExportCommand implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STORE", description = "Store directory.")
    Path store;

    @Option(names = "--format", required = true, paramLabel = "FORMAT", description = "hf, parquet or npy.")
    String format;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (new or empty).")
    Path out;

    @Option(names = "--hook", paramLabel = "HOOK", description = "Hook to export (repeatable; default: all hooks).")
    List<String> hooks = new ArrayList<>();

    @Option(names = "--sequences", description = "hf only: one row per context window (SAELens layout).")
    boolean sequences;

    @Option(names = "--context", paramLabel = "N", defaultValue = "128",
            description = "Window length for --sequences (default: ${DEFAULT-VALUE}).")
    int context;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        String f = format.toLowerCase();
        if (!List.of("hf", "parquet", "npy").contains(f)) {
            throw MoescopeException.usage("--format must be hf, parquet or npy, got " + format);
        }
        if (sequences && !f.equals("hf")) {
            throw MoescopeException.usage("--sequences applies to --format hf only");
        }
        Provenance.Builder prov = Provenance.start("store export").parameter("format", f).parameter("hooks", hooks)
                .parameter("sequences", sequences).parameter("context", context).parameter("seed", common.seed);
        Map<String, Object> summary = new LinkedHashMap<>();
        try (ActivationStore s = ActivationStore.open(store)) {
            prov.input(new InputFile(store.resolve("manifest.json").toString(), s.bytesOnDisk(),
                    dev.moescope.core.provenance.Hashing.describe(store.resolve("manifest.json")).sha256()));
            List<String> files;
            switch (f) {
                case "hf" -> {
                    HfExporter.Result r = sequences
                            ? HfExporter.exportSequences(s, hooks, context, this.out, common.seed)
                            : HfExporter.exportTokens(s, hooks, this.out, common.seed);
                    files = r.files();
                    summary.put("rows", r.rows());
                    summary.put("layout", sequences ? "sequences of " + context + " tokens" : "one row per token");
                    if (sequences) {
                        summary.put("droppedTailTokens", r.droppedTokens());
                        out.printf("%,d sequences of %d tokens (%,d tail tokens shorter than a window dropped)%n",
                                r.rows(), context, r.droppedTokens());
                    }
                }
                case "parquet" -> {
                    files = ParquetExporter.export(s, hooks, this.out);
                    summary.put("rows", s.rows());
                }
                default -> {
                    files = NpyExporter.export(s, hooks, this.out);
                    summary.put("rows", s.rows());
                }
            }
            summary.put("format", f);
            summary.put("files", files);
            out.printf("wrote %d files (%s) to %s%n", files.size(), f, this.out);
            for (String name : files) {
                out.println("  " + name);
            }
        }
        summary.put("provenance", prov.build());
        Json.write(this.out.resolve("summary.json"), summary);
        out.flush();
        return 0;
    }
}
