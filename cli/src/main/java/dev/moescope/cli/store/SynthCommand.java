package dev.moescope.cli.store;

import dev.moescope.cli.CommonOptions;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.Json;
import dev.moescope.core.progress.Progress;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.store.Dtype;
import dev.moescope.store.Identity;
import dev.moescope.store.StoreCompression;
import dev.moescope.store.StoreSpec;
import dev.moescope.store.StoreWriter;
import dev.moescope.store.synthetic.SyntheticCorpus;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code moescope store synth}: a reproducible synthetic store, for trying tools and pipelines without a model. */
@Command(name = "synth",
        mixinStandardHelpOptions = true,
        description = {
            "Write a reproducible synthetic store (no model needed).",
            "Documents of random tokens in three domains, hook activations with per-token structure "
                    + "and domain-biased routing, all determined by --seed. --resume continues an interrupted "
                    + "run."},
        footer = {"", "Example:",
            "  moescope store synth --out runs/synth --docs 2000 \\",
            "      --hook blocks.0.resid_post:64 --routing 0:2:8"})
public final class SynthCommand implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Store directory to create.")
    Path out;

    @Option(names = "--docs", defaultValue = "1000", paramLabel = "N",
            description = "Documents (default: ${DEFAULT-VALUE}).")
    long docs;

    @Option(names = "--hook", paramLabel = "NAME:WIDTH",
            description = "Hook and width (repeatable; default blocks.0.resid_post:64).")
    List<String> hooks = List.of("blocks.0.resid_post:64");

    @Option(names = "--routing", paramLabel = "LAYER:K:EXPERTS", description = "Routed layer (repeatable).")
    List<String> routing = List.of();

    @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "float32",
            description = "float32 or float16 (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--compression", paramLabel = "CODEC", defaultValue = "none",
            description = "none or zstd (default: ${DEFAULT-VALUE}).")
    String compression;

    @Option(names = "--shard-rows", defaultValue = "65536", paramLabel = "N",
            description = "Rows per shard (default: ${DEFAULT-VALUE}).")
    int shardRows;

    @Option(names = "--resume", description = "Continue an interrupted store after its last committed document.")
    boolean resume;

    @Override
    public Integer call() {
        PrintWriter printer = spec.commandLine().getOut();
        if (docs < 1) {
            throw MoescopeException.usage("--docs must be at least 1, got " + docs);
        }
        StoreSpec.Builder b = StoreSpec.builder(new Identity("synthetic", ""), new Identity("synthetic-1000", ""))
                .tokenText(true).compression(StoreCompression.parse(compression)).shardRows(shardRows);
        Dtype d = Dtype.parse(dtype);
        for (String h : hooks) {
            String[] p = h.split(":");
            if (p.length != 2) {
                throw MoescopeException.usage("--hook must be NAME:WIDTH, got " + h);
            }
            b.hook(p[0], parse(p[1], "--hook width"), d);
        }
        for (String r : routing) {
            String[] p = r.split(":");
            if (p.length != 3) {
                throw MoescopeException.usage("--routing must be LAYER:K:EXPERTS, got " + r);
            }
            b.routing(parse(p[0], "--routing layer"), parse(p[1], "--routing k"), parse(p[2], "--routing experts"));
        }
        StoreSpec storeSpec = b.build();
        SyntheticCorpus corpus = SyntheticCorpus.small(common.seed);
        Provenance provenance = Provenance.start("store synth").parameter("seed", common.seed).parameter("docs", docs)
                .parameter("hooks", hooks).parameter("routing", routing).parameter("dtype", dtype)
                .parameter("compression", compression).build();
        long start;
        try (StoreWriter w = resume ? StoreWriter.resume(out, storeSpec) : StoreWriter.create(out, storeSpec, provenance);
             Progress p = Progress.start("synth", docs, "doc")) {
            start = w.documentsCommitted();
            p.stepTo(start);
            for (long i = start; i < docs; i++) {
                corpus.write(w, i, i + 1);
                p.stepBy(1);
            }
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("store", out.toString());
        summary.put("documents", docs);
        summary.put("resumedAt", start);
        summary.put("provenance", provenance.finishedNow());
        Json.write(out.resolve("summary.json"), summary);
        printer.printf("wrote documents %d..%d to %s%n", start, docs - 1, out);
        printer.flush();
        return 0;
    }

    private static int parse(String s, String what) {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw MoescopeException.usage(what + " must be an integer, got " + s);
        }
    }
}
