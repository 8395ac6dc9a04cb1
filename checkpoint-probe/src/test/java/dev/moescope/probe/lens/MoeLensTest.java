package dev.moescope.probe.lens;

import ai.onnx.proto.OnnxMl.ModelProto;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.probe.corpus.Window;
import dev.moescope.probe.corpus.Windows;
import dev.moescope.probe.graph.ModelFiles;
import dev.moescope.probe.graph.ProbeDetector;
import dev.moescope.probe.graph.ProbeSpec;
import dev.moescope.probe.run.OrtRunner;
import dev.moescope.probe.testgraphs.OnnxGraphBuilder;
import dev.moescope.probe.testgraphs.TinyMoeGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.moescope.probe.testgraphs.TinyMoeGraph.H;
import static dev.moescope.probe.testgraphs.TinyMoeGraph.V;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Top-k sweep and logit lens against independent computations. */
class MoeLensTest {

    static MoeLens.Report runLens(Path model, List<Window> windows, List<Integer> ks, boolean renorm) {
        ModelProto proto = ModelFiles.load(model);
        ProbeSpec spec = ProbeDetector.detect(proto, model);
        try (MoeLens lens = MoeLens.open(model, proto, spec, ks, OrtRunner.Config.cpu(model, 1), renorm, true)) {
            lens.accept(windows);
            return lens.report(renorm);
        }
    }

    static MoeLens.Perplexity ppl(MoeLens.Report r, int k, String domain) {
        return ppl(r, k, MoeLens.MODEL, domain);
    }

    static MoeLens.Perplexity ppl(MoeLens.Report r, int k, String variant, String domain) {
        return r.perplexity().stream().filter(p -> p.k() == k && p.variant().equals(variant) && p.domain().equals(domain))
                .findFirst().orElseThrow();
    }

    @Test
    void sweepAndLensOnTheJavaBuiltGraphMatchTheReference(@TempDir Path dir) throws Exception {
        TinyMoeGraph net = new TinyMoeGraph(5);
        Path model = dir.resolve("moe.onnx");
        OnnxGraphBuilder.write(net.model(), model, false);
        long[] doc0 = {1, 4, 9, 2, 2, 7, 15, 3};
        long[] doc1 = {8, 8, 0, 5, 6};
        List<Window> windows = new ArrayList<>(Windows.split(0, "a", doc0, 8, 0));
        windows.addAll(Windows.split(1, "b", doc1, 8, 0));
        MoeLens.Report r = runLens(model, windows, List.of(1, 2), true);
        assertEquals(2, r.fullK());
        assertTrue(r.singleExpertVariant().startsWith("renormalised"));

        // independent: perplexity, cosine and lens from the Java reference, per document
        long[][] docs = {doc0, doc1};
        double[] nll = new double[3];
        double[] rawNll = new double[3];
        double[] n = new double[3];
        double[][] cos = new double[2][2];
        long[] agree = new long[2];
        long tokens = 0;
        for (long[] d : docs) {
            TinyMoeGraph.Reference k1 = net.reference(d, 1);
            TinyMoeGraph.Reference k2 = net.reference(d, 2);
            for (int t = 0; t < d.length; t++) {
                tokens++;
                if (t + 1 < d.length) {
                    nll[1] -= MoeLens.logSoftmax(k1.logits, t * V, V, (int) d[t + 1]);
                    nll[2] -= MoeLens.logSoftmax(k2.logits, t * V, V, (int) d[t + 1]);
                    rawNll[1] -= MoeLens.logSoftmax(net.reference(d, 1, false).logits, t * V, V, (int) d[t + 1]);
                    rawNll[2] -= MoeLens.logSoftmax(net.reference(d, 2, false).logits, t * V, V, (int) d[t + 1]);
                    n[1]++;
                }
                for (int l = 0; l < 2; l++) {
                    cos[l][0] += MoeLens.cos(k1.residPost[l], k2.residPost[l], t * H, H);
                    cos[l][1]++;
                    float[] lensLogits = net.unembed(k2.residPost[l], t * H);
                    agree[l] += MoeLens.argmax(lensLogits, 0, V) == MoeLens.argmax(k2.logits, t * V, V) ? 1 : 0;
                }
            }
        }
        // random weights give a huge perplexity: compare mean NLL (its log) to float precision
        assertEquals(nll[1] / n[1], Math.log(ppl(r, 1, "all").perplexity()), 1e-4);
        assertEquals(nll[2] / n[1], Math.log(ppl(r, 2, "all").perplexity()), 1e-4);
        assertEquals((nll[1] - nll[2]) / n[1], Math.log(ppl(r, 1, "all").ratioToFullK()), 1e-4);
        // the other single-expert variant: raw softmax weights
        assertEquals(rawNll[1] / n[1], Math.log(ppl(r, 1, MoeLens.RAW, "all").perplexity()), 1e-4);
        assertEquals(rawNll[2] / n[1], Math.log(ppl(r, 2, MoeLens.RAW, "all").perplexity()), 1e-4);
        assertEquals(7, ppl(r, 1, "a").tokens());
        assertEquals(4, ppl(r, 1, "b").tokens());
        for (int l = 0; l < 2; l++) {
            int layer = l;
            double got = r.cosine().stream().filter(c -> c.k() == 1 && c.layer() == layer && c.variant().equals(MoeLens.MODEL))
                    .findFirst().orElseThrow().meanCosine();
            assertEquals(cos[l][0] / cos[l][1], got, 1e-5, "cosine layer " + l);
            assertEquals((double) agree[l] / tokens, r.logitLens().get(l).top1Agreement(), 1e-12, "lens layer " + l);
        }
        assertEquals(1.0, r.logitLens().get(1).top1Agreement());
        assertTrue(r.lastLayerMaxAbsDiff() < 1e-4, "last layer lens = model logits: " + r.lastLayerMaxAbsDiff());
        assertTrue(r.cosine().get(0).meanCosine() < 0.9999, "k = 1 really changes the residual");

        assertThrows(MoescopeException.class, () -> runLens(model, windows, List.of(3), true));
    }

    /** The lens reuses the exported RMSNorm (with γ): the last layer reproduces PyTorch's logits; k=1 matches PyTorch. */
    @Test
    void torchExportLastLayerLensReproducesTheLogitsAndTop1MatchesPyTorch(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("tiny-mixtral.onnx");
        JsonObject ref;
        try (InputStream in = getClass().getResourceAsStream("/torch-export/tiny-mixtral.onnx")) {
            Files.copy(in, model);
        }
        try (InputStream in = getClass().getResourceAsStream("/torch-export/tiny-mixtral.reference.json")) {
            ref = JsonParser.parseString(new String(in.readAllBytes())).getAsJsonObject();
        }
        JsonArray ids = ref.getAsJsonArray("input_ids");
        int seq = ref.get("seq").getAsInt();
        List<Window> windows = new ArrayList<>();
        long[][] docs = new long[2][seq];
        for (int b = 0; b < 2; b++) {
            for (int t = 0; t < seq; t++) {
                docs[b][t] = ids.get(b * seq + t).getAsLong();
            }
            windows.addAll(Windows.split(b, "d" + b, docs[b], seq, 0));
        }
        MoeLens.Report r = runLens(model, windows, List.of(1, 2), true);
        assertTrue(r.lastLayerMaxAbsDiff() < 1e-3, "max |lens - logits| = " + r.lastLayerMaxAbsDiff());
        assertEquals(1.0, r.logitLens().get(r.logitLens().size() - 1).top1Agreement());
        JsonArray top1 = ref.getAsJsonArray("logits_top1");
        int vocab = top1.size() / (2 * seq);
        float[] logits = new float[top1.size()];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = top1.get(i).getAsFloat();
        }
        double nll = 0;
        int n = 0;
        for (int b = 0; b < 2; b++) {
            for (int t = 0; t + 1 < seq; t++) {
                nll -= MoeLens.logSoftmax(logits, (b * seq + t) * vocab, vocab, (int) docs[b][t + 1]);
                n++;
            }
        }
        assertEquals(Math.exp(nll / n), ppl(r, 1, "all").perplexity(), 1e-3 * Math.exp(nll / n));
    }
}
