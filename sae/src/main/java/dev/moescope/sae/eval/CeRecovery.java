package dev.moescope.sae.eval;

import ai.djl.engine.Engine;
import ai.onnx.proto.OnnxMl.ModelProto;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.provenance.Hashing;
import dev.moescope.probe.corpus.CorpusReader;
import dev.moescope.probe.corpus.TextTokenizer;
import dev.moescope.probe.corpus.Window;
import dev.moescope.probe.corpus.Windows;
import dev.moescope.probe.graph.GraphSurgery;
import dev.moescope.probe.graph.ModelFiles;
import dev.moescope.probe.graph.ProbeDetector;
import dev.moescope.probe.run.HostTensor;
import dev.moescope.probe.run.OrtRunner;
import dev.moescope.probe.run.TokenBatch;
import dev.moescope.sae.dictionary.SparseCodes;
import dev.moescope.sae.encode.ThresholdEncoder;
import dev.moescope.sae.io.SaeLensExport;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.Chunk;
import dev.moescope.store.TokenColumns;
import dev.moescope.store.manifest.Manifest;
import dev.moescope.store.stream.DocumentSplit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * CE loss recovered: the model's next-token cross-entropy on a probe-recorded store's held-out documents, clean,
 * with the hook replaced by the SAE's reconstruction x̂ (threshold encoding, as at inference), and with the hook
 * ablated (zeros; and the mean of the held-out hook values). {@code recovered = (CE_abl − CE_sae)/(CE_abl − CE_clean)}.
 *
 * <p>The held-out documents are re-read from the corpus the probe run recorded and re-tokenised and windowed with
 * its tokenizer, BOS, seq-len and overlap, so that store row i is the hook at that position: the clean run's hook
 * is compared with the stored rows (max abs diff) before anything is spliced. The reconstruction replaces the hook
 * at every position of a window (overlap context included); cross-entropy counts the scored positions that have a
 * next token.
 */
public final class CeRecovery {

    /** Windows per model run. */
    static final int WINDOWS_PER_RUN = 8;

    /** What {@code summary.json} records under {@code ce_loss}. */
    public record Result(String hook, String model, long tokens, long documents, double ceClean, double ceSae,
                         double ceZeroAblation, double ceMeanAblation, double recovered, double recoveredFromMean,
                         double ceDegradation, double hookMaxAbsDiff, String ablation) {
    }

    private CeRecovery() {
    }

    /** Whether the store was written by {@code moescope probe run} (so it can be re-run through its model). */
    public static boolean probeRecorded(Manifest m) {
        return m.provenance() != null && "probe run".equals(m.provenance().operation());
    }

    /**
     * Computes CE loss recovered for the SAE {@code sae} on hook {@code hook} of {@code storeDir}'s validation
     * documents (split {@code split}). {@code modelOverride} replaces the model path the store recorded (null: as
     * recorded); its SHA-256 must equal the manifest's.
     */
    public static Result compute(Engine engine, SaeLensExport.RawSae sae, Path storeDir, String hook,
                                 DocumentSplit split, Path modelOverride, int threads) {
        try (ActivationStore store = ActivationStore.open(storeDir)) {
            Manifest m = store.manifest();
            Path manifestFile = storeDir.resolve(Manifest.FILE_NAME);
            if (!probeRecorded(m)) {
                throw MoescopeException.badInput(manifestFile, "CE loss recovered needs a store recorded by "
                        + "`moescope probe run` (this one was written by '"
                        + (m.provenance() == null ? "?" : m.provenance().operation()) + "')");
            }
            Map<String, String> p = m.provenance().parameters();
            Path model = modelOverride != null ? modelOverride : Path.of(p.get("model"));
            if (!Files.isRegularFile(model)) {
                throw MoescopeException.badInput(model, "model the store was recorded with is not there; pass --model PATH (or --no-ce)");
            }
            String sha = Hashing.describe(model).sha256();
            if (!sha.equals(m.model().sha256())) {
                throw MoescopeException.badInput(model, "SHA-256 " + abbrev(sha) + " differs from the store's model "
                        + m.model().name() + " (" + abbrev(m.model().sha256()) + "): not the model the store was recorded with");
            }
            Path tokenizerFile = Path.of(p.get("tokenizer"));
            if (!Files.isRegularFile(tokenizerFile)
                    || !Hashing.describe(tokenizerFile).sha256().equals(m.tokenizer().sha256())) {
                throw MoescopeException.badInput(tokenizerFile, "missing, or not the tokenizer the store was recorded with");
            }
            Path corpus = Path.of(p.get("corpus"));
            if (!Files.exists(corpus)) {
                throw MoescopeException.badInput(corpus, "corpus the store was recorded from is not there");
            }
            int seqLen = Integer.parseInt(p.get("seq-len"));
            int overlap = Integer.parseInt(p.getOrDefault("overlap", "0"));
            long bos = Long.parseLong(p.getOrDefault("bos", "-1"));
            String domainField = p.getOrDefault("domain-field", "domain");
            CorpusReader.Options read = new CorpusReader.Options(p.getOrDefault("text-field", "text"),
                    domainField.equals("none") ? null : domainField, null, 0);
            int width = store.hook(hook).width();
            if (width != sae.width()) {
                throw MoescopeException.badInput(storeDir, "hook " + hook + " has width " + width + ", the SAE " + sae.width());
            }

            // held-out documents: id -> rows, and the mean of their hook values (for mean ablation), streamed
            Map<String, long[]> docs = new LinkedHashMap<>();
            double[] sum = new double[width];
            long count = 0;
            for (Chunk c : store.chunks()) {
                TokenColumns t = store.readTokens(c.firstRow(), c.rows());
                float[] h = null;
                for (int i = 0; i < t.size(); i++) {
                    if (!split.isValidation(t.docIndex()[i])) {
                        continue;
                    }
                    long[] d = docs.get(t.docId()[i]);
                    if (d == null) {
                        d = new long[]{t.firstRow() + i, 0}; // first row, rows
                        docs.put(t.docId()[i], d);
                    }
                    d[1]++;
                    if (h == null) {
                        h = store.readHook(hook, c.firstRow(), c.rows());
                    }
                    for (int j = 0; j < width; j++) {
                        sum[j] += h[i * width + j];
                    }
                    count++;
                }
            }
            if (docs.isEmpty()) {
                throw MoescopeException.badInput(storeDir, "no held-out documents for CE loss recovered");
            }
            float[] mean = new float[width];
            for (int j = 0; j < width; j++) {
                mean[j] = (float) (sum[j] / count);
            }

            ModelProto proto = ModelFiles.load(model);
            // the detector the probe run used: hook outputs only for a run without routing, else the MoE detector
            boolean noRouting = "none".equals(p.get("gating"));
            String tensor = (noRouting ? ProbeDetector.detectHooks(proto, model) : ProbeDetector.detect(proto, model))
                    .allHooks().get(hook);
            if (tensor == null) {
                throw MoescopeException.badInput(model, "no hook " + hook + " found in the model");
            }
            String alias = "moescope_ce_hook";
            ModelProto clean = GraphSurgery.keepOutputs(GraphSurgery.expose(proto, Map.of(alias, tensor)).model(),
                    Set.of("logits", alias));
            String[] input = new String[1];
            ModelProto spliced = GraphSurgery.keepOutputs(GraphSurgery.hookToInput(proto, tensor, input), Set.of("logits"));
            try (OrtRunner cleanRun = OrtRunner.openEdited(OrtRunner.Config.cpu(model, threads), clean);
                 OrtRunner splicedRun = OrtRunner.openEdited(OrtRunner.Config.cpu(model, threads), spliced);
                 ThresholdEncoder encoder = new ThresholdEncoder(engine, sae);
                 TextTokenizer tok = TextTokenizer.open(tokenizerFile, bos)) {
                Accumulator acc = new Accumulator();
                Set<String> seen = new LinkedHashSet<>();
                CorpusReader.read(corpus, read, d -> {
                    long[] rows = docs.get(d.source());
                    if (rows == null || !seen.add(d.source())) {
                        return true;
                    }
                    List<Window> ws = Windows.split(d.index(), d.domain(), tok.encode(d.text()), seqLen, overlap);
                    long scored = ws.stream().mapToLong(w -> w.ids().length - w.firstScored()).sum();
                    if (scored < rows[1]) {
                        throw MoescopeException.badInput(corpus, "document " + d.source() + " gives " + scored
                                + " tokens, the store holds " + rows[1] + ": not the corpus the store was recorded from");
                    }
                    long row = rows[0];
                    long left = rows[1]; // a --max-tokens run may have cut the last document short
                    for (int from = 0; from < ws.size() && left > 0; from += WINDOWS_PER_RUN) {
                        List<Window> part = new ArrayList<>(ws.subList(from, Math.min(ws.size(), from + WINDOWS_PER_RUN)));
                        long consumed = acc.run(part, left, row, store, hook, width, cleanRun, splicedRun, input[0],
                                encoder, sae, mean, alias);
                        row += consumed;
                        left -= consumed;
                    }
                    return seen.size() < docs.size();
                });
                if (seen.size() < docs.size()) {
                    throw MoescopeException.badInput(corpus, (docs.size() - seen.size()) + " held-out document(s) of "
                            + "the store are not in the corpus (e.g. " + docs.keySet().stream()
                            .filter(k -> !seen.contains(k)).findFirst().orElse("?") + ")");
                }
                double tol = 1e-2 * Math.max(1.0, acc.maxAbs);
                if (acc.maxDiff > tol) {
                    throw MoescopeException.badInput(storeDir, String.format(java.util.Locale.ROOT,
                            "re-running the model does not reproduce the stored %s (max abs diff %.3g > %.3g): "
                                    + "model, tokenizer or corpus differ from the recording", hook, acc.maxDiff, tol));
                }
                double cClean = acc.ce[0] / acc.tokens;
                double cSae = acc.ce[1] / acc.tokens;
                double cZero = acc.ce[2] / acc.tokens;
                double cMean = acc.ce[3] / acc.tokens;
                return new Result(hook, m.model().name(), acc.tokens, seen.size(), cClean, cSae, cZero, cMean,
                        (cZero - cSae) / (cZero - cClean), (cMean - cSae) / (cMean - cClean), cSae - cClean,
                        acc.maxDiff, "zero (recovered); mean of the held-out hook values (recovered_from_mean)");
            }
        }
    }

    private static String abbrev(String sha) {
        return sha == null ? "none" : sha.substring(0, Math.min(12, sha.length()));
    }

    /** Sums of cross-entropy (clean, SAE, zero, mean) over scored tokens, and the hook check. */
    private static final class Accumulator {
        final double[] ce = new double[4];
        long tokens;
        double maxDiff;
        double maxAbs;

        /** Runs a batch of one document's windows; returns the store rows it covered (at most {@code left}). */
        long run(List<Window> ws, long left, long firstRow, ActivationStore store, String hook, int width,
                 OrtRunner cleanRun, OrtRunner splicedRun, String input, ThresholdEncoder encoder,
                 SaeLensExport.RawSae sae, float[] mean, String alias) {
            List<long[]> seqs = new ArrayList<>();
            for (Window w : ws) {
                seqs.add(w.ids());
            }
            TokenBatch batch = TokenBatch.pad(seqs, 0);
            Map<String, HostTensor> out = cleanRun.run(batch, Set.of("logits", alias));
            HostTensor h = out.get(alias);
            HostTensor logits = out.get("logits");
            int cells = batch.batch() * batch.seqLen();
            if (h.floats() == null || h.size() != (long) cells * width) {
                throw MoescopeException.badInput(cleanRun.config().model(), "hook output has shape "
                        + java.util.Arrays.toString(h.shape()) + ", expected " + cells + " rows of " + width);
            }
            float[] x = h.floats();
            // the clean hook at the scored positions must be what the store holds
            long covered = 0;
            for (int b = 0; b < ws.size() && covered < left; b++) {
                Window w = ws.get(b);
                int n = (int) Math.min(w.ids().length - w.firstScored(), left - covered);
                float[] stored = store.readHook(hook, firstRow + covered, n);
                for (int i = 0; i < n; i++) {
                    int cell = b * batch.seqLen() + w.firstScored() + i;
                    for (int j = 0; j < width; j++) {
                        float v = x[cell * width + j];
                        maxDiff = Math.max(maxDiff, Math.abs(v - stored[i * width + j]));
                        maxAbs = Math.max(maxAbs, Math.abs(v));
                    }
                }
                covered += n;
            }
            float[] recon = reconstruct(encoder, sae, x, cells, width);
            float[] zero = new float[x.length];
            float[] meanFill = new float[x.length];
            for (int c = 0; c < cells; c++) {
                System.arraycopy(mean, 0, meanFill, c * width, width);
            }
            long[] shape = {batch.batch(), batch.seqLen(), width};
            float[][] variants = {recon, zero, meanFill};
            HostTensor[] spliced = new HostTensor[3];
            for (int v = 0; v < 3; v++) {
                spliced[v] = splicedRun.run(batch, Set.of("logits"),
                        Map.of(input, new HostTensor(input, shape, "float", variants[v], null))).get("logits");
            }
            int vocab = logits.width();
            long done = 0;
            for (int b = 0; b < ws.size() && done < left; b++) {
                Window w = ws.get(b);
                int n = (int) Math.min(w.ids().length - w.firstScored(), left - done);
                for (int i = 0; i < n; i++) {
                    int s = w.firstScored() + i;
                    long target = w.next()[s];
                    if (target < 0) {
                        continue; // the document's last token has no next token
                    }
                    int cell = b * batch.seqLen() + s;
                    ce[0] += crossEntropy(logits.floats(), cell * vocab, vocab, (int) target);
                    for (int v = 0; v < 3; v++) {
                        ce[v + 1] += crossEntropy(spliced[v].floats(), cell * vocab, vocab, (int) target);
                    }
                    tokens++;
                }
                done += n;
            }
            return done;
        }
    }

    /** x̂ = f(x)·W_dec + b_dec with threshold codes f, row-major like {@code x}. */
    static float[] reconstruct(ThresholdEncoder encoder, SaeLensExport.RawSae sae, float[] x, int rows, int width) {
        SparseCodes codes = encoder.encode(x, rows);
        float[] out = new float[rows * width];
        float[] wDec = sae.wDec();
        for (int r = 0; r < rows; r++) {
            System.arraycopy(sae.bDec(), 0, out, r * width, width);
            for (int p = codes.rowPtr[r]; p < codes.rowPtr[r + 1]; p++) {
                int f = codes.cols[p];
                float a = codes.vals[p];
                for (int j = 0; j < width; j++) {
                    out[r * width + j] += a * wDec[f * width + j];
                }
            }
        }
        return out;
    }

    /** −log softmax(logits[off, off+vocab))[target], computed stably in double. */
    static double crossEntropy(float[] logits, int off, int vocab, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double s = 0;
        for (int i = 0; i < vocab; i++) {
            s += Math.exp(logits[off + i] - max);
        }
        return Math.log(s) + max - logits[off + target];
    }
}
