package dev.moescope.cli.probe;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.moescope.cli.CommonOptions;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Hashing;
import dev.moescope.core.provenance.InputFile;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.probe.capture.CorpusProbe;
import dev.moescope.probe.capture.RoutingCapture;
import dev.moescope.probe.capture.StoreSink;
import dev.moescope.probe.corpus.TextTokenizer;
import dev.moescope.probe.gating.GatingConfig;
import dev.moescope.probe.graph.ModelFiles;
import dev.moescope.probe.graph.ProbeDetector;
import dev.moescope.probe.graph.ProbeSpec;
import dev.moescope.probe.run.Device;
import dev.moescope.probe.run.OrtRunner;
import dev.moescope.store.Identity;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

/** {@code moescope probe run}: record routing and hook activations of an ONNX model over a corpus into a store. */
@Command(name = "run",
        mixinStandardHelpOptions = true,
        description = {
            "Record an ONNX model's per-token routing and hooks over a domain-labelled corpus into a "
                    + "store.",
            "The routing of every MoE layer is the top-k expert ids and gate weights re-derived in "
                    + "Java from the router logits, checked against the graph's own TopK where it has one; "
                    + "optionally the full logits are kept too.",
            "Streams with bounded memory; --resume continues an interrupted run after its last "
                    + "committed document. Model, tokenizer and corpus hashes go into the store's manifest."},
        footer = {"", "Examples:",
            "  moescope probe run --model tiny-moe/model.onnx --tokenizer tokenizer.json \\",
            "      --corpus corpus/ --bos 0 --seq-len 128 --hooks 'blocks.*.resid_post' \\",
            "      --out runs/moe-store",
            "  moescope probe run --model tiny-dense/model.onnx --no-routing \\",
            "      --tokenizer tokenizer.json --corpus corpus/ --bos 0 --seq-len 128 \\",
            "      --hooks 'blocks.*.resid_post' --out runs/dense-store",
            "",
            "The edited model (router logits and hooks exposed as outputs) is opened from memory, never written;",
            "its external data resolves beside MODEL. Bad input (missing model, no router, tokenizer larger than",
            "the embedding, empty corpus, unknown domain field, CUDA unavailable) exits 3."})
public final class ProbeRunCommand implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Mixin
    CorpusOptions corpus;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "MODEL", description = "The .onnx model.")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "STORE",
            description = "Store directory (new, or with --resume).")
    Path out;

    @Option(names = "--hooks", split = ",", defaultValue = "blocks.*.resid_post", paramLabel = "HOOK",
            description = "Hooks to record: names or patterns such as blocks.*.resid_post, blocks.2.moe_out, or a bare"
                    + " kind (resid_post); 'none' for routing only (default: ${DEFAULT-VALUE}).")
    List<String> hooks;

    @Option(names = "--spec", paramLabel = "FILE",
            description = "Probe spec JSON instead of detection (see 'probe inspect').")
    Path specFile;

    @Option(names = "--gating", paramLabel = "SCHEME",
            description = "Gating to re-derive top-k, e.g. mixtral or softmax-topk:k=8 (default: the export sidecar"
                    + " moescope-export.json beside MODEL, else what the graph shows).")
    String gating;

    @Option(names = "--no-routing",
            description = "Record hooks only: the model has no router (a dense twin recorded on the same tokens).")
    boolean noRouting;

    @Option(names = "--full-logits", description = "Also record each MoE layer's full router logits (hook blocks.<L>.router_logits).")
    boolean fullLogits;

    @Option(names = "--resume", description = "Continue the store at --out after its last committed document.")
    boolean resume;

    @Option(names = "--shard-rows", defaultValue = "65536", paramLabel = "N",
            description = "Rows per committed shard: the most work a crash can lose (default: ${DEFAULT-VALUE}).")
    int shardRows;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEV",
            description = "cpu, cuda, cuda:N or auto (CUDA if it loads, else CPU) (default: ${DEFAULT-VALUE}).")
    String device;

    @Override
    public Integer call() {
        if (shardRows < 1) {
            throw MoescopeException.usage("--shard-rows must be positive, got " + shardRows);
        }
        Device dev = Device.parse(device);
        ModelProto proto = ModelFiles.load(model);
        ProbeSpec probe = specFile != null ? ProbeSpec.read(specFile, proto)
                : noRouting ? ProbeDetector.detectHooks(proto, model)
                : ProbeDetector.detect(proto, model, "; for a dense model pass --no-routing");
        GatingConfig gate = noRouting ? null
                : GatingConfig.forModel(gating, model, probe.gating(), probe.numExperts());
        List<String> hookNames = resolveHooks(probe);
        CorpusProbe.Resume from = StoreSink.prepare(out, resume);

        InputFile modelFile = Hashing.describe(model);
        InputFile tokenizerFile = Hashing.describe(corpus.tokenizer);
        Provenance.Builder prov = corpus.record(Provenance.start("probe run").parameter("model", model))
                .parameter("hooks", hookNames)
                .parameter("gating", gate == null ? "none" : gate.toString()).parameter("full-logits", fullLogits)
                .parameter("device", dev).parameter("seed", common.seed)
                .input(modelFile).input(tokenizerFile).input(corpus.corpus);
        Provenance provenance = prov.build();
        Identity modelId = new Identity(name(model), modelFile.sha256());
        Identity tokenizerId = new Identity(corpus.tokenizer.getFileName().toString(), tokenizerFile.sha256());

        PrintWriter w = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        CorpusProbe.Result result;
        String deviceUsed;
        List<Integer> routedLayers;
        StoreSink sink = new StoreSink(new StoreSink.Options(out, modelId, tokenizerId, fullLogits && gate != null,
                shardRows, resume, provenance));
        try (TextTokenizer tok = corpus.openTokenizer(w);
             RoutingCapture capture = RoutingCapture.openNamed(model, proto, probe, gate, hookNames,
                     new OrtRunner.Config(model, dev, common.threads, null))) {
            tok.checkFits(ProbeDetector.embeddingRows(proto), model);
            capture.predictions(false); // the store does not record predictions
            if (!capture.runner().deviceNote().isEmpty()) {
                err.println("moescope: " + capture.runner().deviceNote());
            }
            deviceUsed = capture.runner().deviceUsed();
            routedLayers = capture.routedLayers();
            boolean ok = false;
            try {
                result = CorpusProbe.run(corpus.corpus, corpus.readOptions(), tok, capture, corpus.batchOptions(),
                        from, sink::document, sink);
                ok = true;
            } finally {
                if (ok) {
                    sink.close();
                } else {
                    sink.abandon();
                }
            }
        }
        if (!sink.opened() && from.afterSource() == null) {
            throw MoescopeException.badInput(corpus.corpus, "the corpus produced no tokens");
        }
        if (result.topKMismatches() > 0) {
            err.printf(Locale.ROOT, "moescope: warning: Java's top-k differed from the graph's TopK on %d of %d"
                    + " token-layers (near-ties?)%n", result.topKMismatches(), result.topKChecked());
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("provenance", provenance.finishedNow());
        summary.put("store", out.toString());
        summary.put("resumedAfter", from.afterSource());
        summary.put("device", deviceUsed);
        summary.put("gating", gate == null ? null : gate.toString());
        summary.put("routedLayers", routedLayers);
        summary.put("hooks", hookNames);
        summary.put("fullLogits", fullLogits && gate != null);
        summary.put("documents", sink.documents());
        summary.put("tokens", sink.rows());
        summary.put("batches", result.batches());
        summary.put("seconds", result.seconds());
        summary.put("tokensPerSecond", result.tokensPerSecond());
        summary.put("graphTopKChecked", result.topKChecked());
        summary.put("graphTopKMismatches", result.topKMismatches());
        if (Files.isDirectory(out)) {
            Json.write(out.resolve("summary.json"), summary);
        }
        w.printf(Locale.ROOT, "%s%d documents, %d tokens in %.1f s (%.0f tok/s) on %s%n",
                from.afterSource() != null ? "resumed after " + from.afterSource() + ": " : "",
                sink.documents(), sink.rows(), result.seconds(), result.tokensPerSecond(), deviceUsed);
        w.printf(Locale.ROOT, "routing: %s%n", gate == null ? "not recorded (--no-routing)"
                : routedLayers.size() + " MoE layers, " + gate + (result.topKChecked() > 0
                ? String.format(Locale.ROOT, "; Java top-k = graph TopK on %d/%d token-layers",
                result.topKChecked() - result.topKMismatches(), result.topKChecked()) : ""));
        w.println("hooks: " + (hookNames.isEmpty() ? "none" : String.join(", ", hookNames))
                + (fullLogits && gate != null ? " + router logits" : ""));
        w.println("wrote " + out);
        return 0;
    }

    /** {@code tiny-moe/model.onnx}: the file with its directory, stable across working directories. */
    static String name(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        return abs.getParent() == null ? abs.getFileName().toString()
                : abs.getParent().getFileName() + "/" + abs.getFileName();
    }

    /** Expands --hooks patterns against the spec's hooks (router logits are recorded with --full-logits). */
    private List<String> resolveHooks(ProbeSpec probe) {
        if (hooks.equals(List.of("none"))) {
            return List.of();
        }
        List<String> available = new ArrayList<>();
        for (String h : probe.allHooks().keySet()) {
            if (!h.endsWith("." + ProbeSpec.ROUTER_LOGITS)) {
                available.add(h);
            }
        }
        Set<String> chosen = new LinkedHashSet<>();
        for (String pattern : hooks) {
            String full = pattern.contains(".") ? pattern : "blocks.*." + pattern;
            Pattern re = Pattern.compile(Pattern.quote(full).replace("*", "\\E[^.]*\\Q"));
            List<String> hit = available.stream().filter(h -> re.matcher(h).matches()).toList();
            if (hit.isEmpty()) {
                throw MoescopeException.badInput(model, "no hook matches '" + pattern + "' (hooks: " + available
                        + (pattern.contains(ProbeSpec.ROUTER_LOGITS) ? "; router logits come with --full-logits" : "")
                        + ")");
            }
            chosen.addAll(hit);
        }
        return new ArrayList<>(chosen);
    }
}
