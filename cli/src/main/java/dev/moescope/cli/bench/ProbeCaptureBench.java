package dev.moescope.cli.bench;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.moescope.cli.CommonOptions;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.io.FileTrees;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.probe.analysis.RoutingAnalysis;
import dev.moescope.probe.capture.AnalysisSink;
import dev.moescope.probe.capture.CapturedBatch;
import dev.moescope.probe.capture.CorpusProbe;
import dev.moescope.probe.capture.RoutingCapture;
import dev.moescope.probe.capture.StoreSink;
import dev.moescope.probe.corpus.Document;
import dev.moescope.store.Identity;
import dev.moescope.probe.corpus.CorpusReader;
import dev.moescope.probe.corpus.TextTokenizer;
import dev.moescope.probe.corpus.Window;
import dev.moescope.probe.gating.GatingConfig;
import dev.moescope.probe.graph.ModelFiles;
import dev.moescope.probe.graph.ProbeDetector;
import dev.moescope.probe.graph.ProbeSpec;
import dev.moescope.probe.run.OrtRunner;
import dev.moescope.probe.run.TokenBatch;
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
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code moescope bench probe-capture}: probe throughput with routing capture (router logits exposed, top-k
 * re-derived in Java, hooks copied, routing analyses fed) against a bare ONNX Runtime loop requesting only
 * {@code logits}, over the same pre-tokenised batches with the same session options, in one run.
 */
@Command(name = "probe-capture",
        mixinStandardHelpOptions = true,
        description = {
            "Probe capture overhead: capture, store writing and analyses vs a bare ONNX Runtime loop.",
            "Measures tokens/s of routing capture (router logits + hooks exposed, Java top-k, rows "
                    + "copied out), with the activation store written (tokens, routing, hooks; committed and "
                    + "fsynced), and with the routing analyses fed, vs a bare ONNX Runtime loop requesting only"
                    + " logits, over the same batches with the same session options, in one run."},
        footer = {"", "Example:",
            "  moescope bench probe-capture model.onnx --tokenizer tokenizer.json \\",
            "      --corpus corpus.jsonl --seq-len 128 --batch 8 --max-tokens 20000 \\",
            "      --repeats 3 --threads 2 --out runs/bench-probe"})
public final class ProbeCaptureBench implements java.util.concurrent.Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "The .onnx model (with a 'logits' output).")
    Path model;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "Local tokenizer.json.")
    Path tokenizer;

    @Option(names = "--corpus", required = true, paramLabel = "PATH",
            description = "Corpus (.jsonl, .txt or directory).")
    Path corpus;

    @Option(names = "--seq-len", defaultValue = "128", paramLabel = "N",
            description = "Window length (default: ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--batch", defaultValue = "8", paramLabel = "N",
            description = "Windows per run (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--max-tokens", defaultValue = "20000", paramLabel = "N",
            description = "Tokens per pass (default: ${DEFAULT-VALUE}).")
    long maxTokens;

    @Option(names = "--hooks", split = ",", defaultValue = "resid_post", paramLabel = "KIND",
            description = "Hook kinds captured besides router logits (default: ${DEFAULT-VALUE}; 'none' for none).")
    List<String> hooks;

    @Option(names = "--repeats", defaultValue = "3", paramLabel = "N",
            description = "Timed passes of each loop, alternating; the best of each is reported (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--out", paramLabel = "DIR", description = "Write summary.json here.")
    Path out;

    @Override
    public Integer call() throws IOException {
        if (repeats < 1) {
            throw MoescopeException.usage("--repeats must be positive, got " + repeats);
        }
        ModelProto proto = ModelFiles.load(model);
        ProbeSpec probe = ProbeDetector.detect(proto, model);
        GatingConfig gating = GatingConfig.forModel(null, model, probe.gating(), probe.numExperts());
        List<String> kinds = hooks.equals(List.of("none")) ? List.of() : hooks;
        List<List<Window>> batches = new ArrayList<>();
        CorpusProbe.Result prepared;
        try (TextTokenizer tok = TextTokenizer.open(tokenizer, -1)) {
            tok.checkFits(ProbeDetector.embeddingRows(proto), model);
            prepared = CorpusProbe.forEachBatch(corpus, CorpusReader.Options.defaults(), tok,
                    new CorpusProbe.Options(seqLen, 0, batch, maxTokens), batches::add);
        }
        long tokens = prepared.tokens();
        OrtRunner.Config cfg = OrtRunner.Config.cpu(model, common.threads);
        double bareBest = Double.MAX_VALUE;
        double captureBest = Double.MAX_VALUE;
        double analyseBest = Double.MAX_VALUE;
        double storeBest = Double.MAX_VALUE;
        double storeHereBest = Double.MAX_VALUE;
        double runBest = Double.MAX_VALUE;
        Path scratch = Files.createTempDirectory("moescope-bench-store");
        Identity modelId = new Identity(model.getFileName().toString(), "");
        Identity tokenizerId = new Identity(tokenizer.getFileName().toString(), "");
        try (OrtRunner bare = OrtRunner.open(cfg);
             RoutingCapture capture = RoutingCapture.open(model, proto, probe, gating, kinds, cfg)) {
            bareLoop(bare, batches); // warm-up
            captureLoop(capture, batches, gating, true);
            storeLoop(capture, batches, scratch.resolve("warm-up"), modelId, tokenizerId, true, StoreSink.DEFAULT_QUEUE);
            for (int r = 0; r < repeats; r++) {
                bareBest = Math.min(bareBest, bareLoop(bare, batches));
                captureBest = Math.min(captureBest, captureLoop(capture, batches, gating, false));
                storeBest = Math.min(storeBest, storeLoop(capture, batches, scratch.resolve("pass-" + r), modelId,
                        tokenizerId, true, StoreSink.DEFAULT_QUEUE));
                storeHereBest = Math.min(storeHereBest, storeLoop(capture, batches, scratch.resolve("here-" + r),
                        modelId, tokenizerId, true, 0));
                runBest = Math.min(runBest, storeLoop(capture, batches, scratch.resolve("run-" + r), modelId,
                        tokenizerId, false, StoreSink.DEFAULT_QUEUE));
                analyseBest = Math.min(analyseBest, captureLoop(capture, batches, gating, true));
            }
        } finally {
            FileTrees.delete(scratch);
        }
        double bareTps = tokens / bareBest;
        double captureTps = tokens / captureBest;
        double overhead = captureBest / bareBest - 1;
        double analyseTps = tokens / analyseBest;
        double storeTps = tokens / storeBest;
        double storeOverhead = storeBest / bareBest - 1;
        double storeHereTps = tokens / storeHereBest;
        double runTps = tokens / runBest;
        String load = MachineLoad.now();
        PrintWriter w = spec.commandLine().getOut();
        w.printf(Locale.ROOT, "%d tokens x %d passes, seq-len %d, batch %d, threads %d, hooks %s%n", tokens, repeats,
                seqLen, batch, common.threads, kinds);
        w.printf(Locale.ROOT, "bare ORT (logits only): %.0f tok/s%n", bareTps);
        w.printf(Locale.ROOT, "probe capture:          %.0f tok/s%n", captureTps);
        w.printf(Locale.ROOT, "capture + store:        %.0f tok/s   (logits requested too, as in the bare loop;"
                + " store written on a background thread)%n", storeTps);
        w.printf(Locale.ROOT, "  same, one thread:     %.0f tok/s   (store written on the capturing thread: %+.1f %%)%n",
                storeHereTps, 100 * (storeHereBest / bareBest - 1));
        w.printf(Locale.ROOT, "as 'probe run':         %.0f tok/s   (capture + store, logits not requested: %+.1f %%)%n",
                runTps, 100 * (runBest / bareBest - 1));
        w.printf(Locale.ROOT, "capture + analyses:     %.0f tok/s%n", analyseTps);
        w.printf(Locale.ROOT, "overhead vs bare: capture %+.1f %%, capture + store %+.1f %% (target <= 15 %%)"
                + "   load average: %s%n", 100 * overhead, 100 * storeOverhead, load);
        if (out != null) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("provenance", Provenance.start("bench probe-capture").parameter("model", model)
                    .parameter("seq-len", seqLen).parameter("batch", batch).parameter("max-tokens", maxTokens)
                    .parameter("threads", common.threads).parameter("hooks", kinds).parameter("repeats", repeats)
                    .input(model).build());
            s.put("tokens", tokens);
            s.put("bareTokensPerSecond", bareTps);
            s.put("captureTokensPerSecond", captureTps);
            s.put("captureOverhead", overhead);
            s.put("captureAndAnalysesTokensPerSecond", analyseTps);
            s.put("loadAverage", load);
            s.put("captureAndStoreTokensPerSecond", storeTps);
            s.put("captureAndStoreOverhead", storeOverhead);
            s.put("captureAndStoreOneThreadTokensPerSecond", storeHereTps);
            s.put("probeRunTokensPerSecond", runTps);
            s.put("note", "capture loops request logits too (same outputs as the bare loop plus the captured ones);"
                    + " probeRun is capture + store without logits, as 'probe run' does");
            Json.write(out.resolve("summary.json"), s);
        }
        return 0;
    }

    private static double bareLoop(OrtRunner bare, List<List<Window>> batches) {
        long t0 = System.nanoTime();
        for (List<Window> b : batches) {
            List<long[]> seqs = new ArrayList<>();
            b.forEach(w -> seqs.add(w.ids()));
            bare.run(TokenBatch.pad(seqs, 0), Set.of("logits"));
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** With {@code analyse}, the routing analyses consume each batch; otherwise the batch is only captured. */
    private static double captureLoop(RoutingCapture capture, List<List<Window>> batches, GatingConfig g,
                                      boolean analyse) {
        // the vocabulary analysis uses predictions; bare capture does not, but requests logits as the bare loop does
        capture.predictions(analyse).requestLogits(true);
        RoutingAnalysis analysis = new RoutingAnalysis(g.numExperts(), g.topK(), 1);
        AnalysisSink sink = new AnalysisSink(analysis, false);
        long t0 = System.nanoTime();
        long rows = 0;
        for (List<Window> b : batches) {
            CapturedBatch c = capture.capture(b);
            rows += c.tokens().size();
            if (analyse) {
                sink.accept(c);
            }
        }
        if (rows == 0) {
            throw new IllegalStateException("nothing captured");
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /**
     * Capture and write every batch to a new store at {@code dir} (committed, so fsynced, inside the timing), on a
     * background thread behind a queue of {@code queue} batches, or on this thread with {@code queue = 0}.
     */
    private static double storeLoop(RoutingCapture capture, List<List<Window>> batches, Path dir, Identity model,
                                    Identity tokenizer, boolean withLogits, int queue) throws IOException {
        capture.predictions(false).requestLogits(withLogits);
        long t0 = System.nanoTime();
        long[] announced = {-1};
        StoreSink sink = new StoreSink(new StoreSink.Options(dir, model, tokenizer, false, 65_536, false,
                Provenance.start("bench probe-capture").build()), queue);
        try {
            for (List<Window> b : batches) {
                for (Window w : b) {
                    if (w.doc() != announced[0]) {
                        sink.document(new Document(w.doc(), "doc-" + w.doc(), w.domain(), ""));
                        announced[0] = w.doc();
                    }
                }
                sink.accept(capture.capture(b));
            }
        } finally {
            sink.close();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (sink.rows() == 0) {
            throw new IllegalStateException("nothing stored");
        }
        FileTrees.delete(dir);
        return seconds;
    }

}
