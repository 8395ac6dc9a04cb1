package dev.moescope.probe.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OrtSession;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.fixtures.Fixtures;
import dev.moescope.fixtures.NpyArray;
import java.io.BufferedReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The three committed ONNX fixture models under ONNX Runtime Java: every output matches the PyTorch reference
 * batch written at export time (full, right-padded and left-padded rows), router logits reproduce the PyTorch
 * gate's own top-2 choice, padding on either side leaves real tokens unchanged, the sidecar describes the
 * graph truthfully, and on held-out text tokenized by DJL the models predict far better than a unigram model.
 */
class FixtureModelsTest {

    /** fp32 ONNX Runtime vs PyTorch on CPU: differences are float rounding, far below this. */
    private static final double TOLERANCE = 1e-3;

    @ParameterizedTest
    @ValueSource(strings = {Fixtures.MOE_MODEL, Fixtures.MOE_LOGITS_ONLY_MODEL, Fixtures.DENSE_MODEL})
    void everyOutputMatchesThePyTorchReference(String modelDir) throws Exception {
        Path dir = Fixtures.path(modelDir);
        JsonObject sidecar = readJson(dir.resolve(Fixtures.SIDECAR_FILE));
        Map<String, NpyArray> reference = NpyArray.readNpz(dir.resolve(Fixtures.REFERENCE_FILE));
        try (OrtSession session = OrtReference.open(dir.resolve(Fixtures.MODEL_FILE))) {
            List<String> declared = new ArrayList<>();
            for (JsonElement o : sidecar.getAsJsonArray("outputs")) {
                declared.add(o.getAsJsonObject().get("name").getAsString());
            }
            assertEquals(declared, new ArrayList<>(session.getOutputNames()), "sidecar outputs = graph outputs");
            assertEquals(List.of("input_ids", "attention_mask"), new ArrayList<>(session.getInputNames()));

            Map<String, OrtReference.Tensor> got = OrtReference.run(session, reference);
            long[] batchShape = reference.get("input_ids").shape();
            for (String name : declared) {
                NpyArray expected = reference.get(name);
                OrtReference.Tensor actual = got.get(name);
                assertArrayEquals(expected.shape(), actual.shape(), name + " shape");
                assertEquals(batchShape[0], actual.shape()[0]);
                assertEquals(batchShape[1], actual.shape()[1]);
                double diff = OrtReference.maxAbsDiff(expected.floats(), actual.values());
                System.out.printf("%s %s max|ORT-PyTorch| = %.3g%n", modelDir, name, diff);
                assertTrue(diff < TOLERANCE, name + ": max abs diff " + diff);
            }
            int vocab = sidecar.getAsJsonObject("model").get("vocab_size").getAsInt();
            assertEquals(vocab, got.get("logits").shape()[2]);
        }
    }

    @Test
    void routerLogitsReproduceTheGatesOwnTopTwo() throws Exception {
        Path dir = Fixtures.path(Fixtures.MOE_MODEL);
        JsonObject gating = readJson(dir.resolve(Fixtures.SIDECAR_FILE)).getAsJsonObject("gating");
        assertEquals("softmax", gating.get("score_function").getAsString());
        assertTrue(gating.get("normalize_topk").getAsBoolean());
        int experts = gating.get("num_experts").getAsInt();
        int k = gating.get("top_k").getAsInt();
        assertEquals(8, experts);
        assertEquals(2, k);

        Map<String, NpyArray> reference = NpyArray.readNpz(dir.resolve(Fixtures.REFERENCE_FILE));
        long[] mask = reference.get("attention_mask").longs();
        try (OrtSession session = OrtReference.open(dir.resolve(Fixtures.MODEL_FILE))) {
            Map<String, OrtReference.Tensor> got = OrtReference.run(session, reference);
            int layers = readJson(dir.resolve(Fixtures.SIDECAR_FILE)).getAsJsonObject("model")
                    .get("num_layers").getAsInt();
            int checked = 0;
            for (int layer = 0; layer < layers; layer++) {
                OrtReference.Tensor logits = got.get("blocks." + layer + ".router_logits");
                long[] torchTopK = reference.get("blocks." + layer + ".topk_ids").longs();
                assertEquals(experts, logits.shape()[2]);
                for (int t = 0; t < mask.length; t++) {
                    if (mask[t] == 0) {
                        continue; // pad positions: their routing is computed but meaningless
                    }
                    int[] top = OrtReference.topK(logits.values(), t * experts, experts, k);
                    for (int j = 0; j < k; j++) {
                        assertEquals(torchTopK[t * k + j], top[j],
                                "layer " + layer + " token " + t + " choice " + j);
                    }
                    checked++;
                }
            }
            assertTrue(checked > 100, "checked " + checked + " routed tokens");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {Fixtures.MOE_MODEL, Fixtures.DENSE_MODEL})
    void paddingOnEitherSideLeavesRealTokensUnchanged(String modelDir) throws Exception {
        Map<String, NpyArray> reference = NpyArray.readNpz(
                Fixtures.path(modelDir).resolve(Fixtures.REFERENCE_FILE));
        long[] ids = reference.get("input_ids").longs();
        long[] mask = reference.get("attention_mask").longs();
        int seq = (int) reference.get("input_ids").shape()[1];
        try (OrtSession session = OrtReference.open(Fixtures.path(modelDir).resolve(Fixtures.MODEL_FILE))) {
            OrtReference.Tensor padded = OrtReference.run(session, ids, mask, 3, seq).get("logits");
            int vocab = (int) padded.shape()[2];
            for (int row = 1; row < 3; row++) { // row 1 is right-padded, row 2 left-padded
                long[] real = new long[seq];
                int n = 0;
                int first = -1;
                for (int t = 0; t < seq; t++) {
                    if (mask[row * seq + t] == 1) {
                        first = first < 0 ? t : first;
                        real[n++] = ids[row * seq + t];
                    }
                }
                long[] alone = Arrays.copyOf(real, n);
                long[] ones = new long[n];
                Arrays.fill(ones, 1L);
                float[] unpadded = OrtReference.run(session, alone, ones, 1, n).get("logits").values();
                float[] slice = Arrays.copyOfRange(padded.values(), (row * seq + first) * vocab,
                        (row * seq + first + n) * vocab);
                double diff = OrtReference.maxAbsDiff(unpadded, slice);
                assertTrue(diff < 1e-4, "row " + row + ": padded vs unpadded logits differ by " + diff);
            }
        }
    }

    @Test
    void logitsOnlyExportIsTheSameModel() throws Exception {
        Map<String, NpyArray> reference = NpyArray.readNpz(
                Fixtures.path(Fixtures.MOE_MODEL).resolve(Fixtures.REFERENCE_FILE));
        try (OrtSession hooked = OrtReference.open(Fixtures.path(Fixtures.MOE_MODEL).resolve(Fixtures.MODEL_FILE));
             OrtSession plain = OrtReference.open(
                     Fixtures.path(Fixtures.MOE_LOGITS_ONLY_MODEL).resolve(Fixtures.MODEL_FILE))) {
            assertEquals(List.of("logits"), new ArrayList<>(plain.getOutputNames()));
            float[] a = OrtReference.run(hooked, reference).get("logits").values();
            float[] b = OrtReference.run(plain, reference).get("logits").values();
            assertTrue(OrtReference.maxAbsDiff(a, b) < 1e-4);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {Fixtures.MOE_MODEL, Fixtures.DENSE_MODEL})
    void heldOutTextTokenizedByDjlIsPredictedFarBetterThanUnigram(String modelDir) throws Exception {
        JsonObject report = readJson(Fixtures.path(Fixtures.TRAINING_REPORT));
        JsonObject unigram = report.getAsJsonObject("unigram_val_loss");
        int seq = 96;
        try (HuggingFaceTokenizer tokenizer = FixtureTokenizerTest.tokenizer();
             OrtSession session = OrtReference.open(Fixtures.path(modelDir).resolve(Fixtures.MODEL_FILE))) {
            for (String domain : Fixtures.DOMAINS) {
                List<long[]> rows = new ArrayList<>();
                try (BufferedReader r = Files.newBufferedReader(Fixtures.path(Fixtures.CORPUS + "/" + domain
                        + ".jsonl"))) {
                    for (int i = 0; i < 3; i++) {
                        String text = JsonParser.parseString(r.readLine()).getAsJsonObject().get("text").getAsString();
                        rows.add(tokenizer.encode(text).getIds());
                    }
                }
                long[] ids = new long[rows.size() * seq];
                long[] mask = new long[ids.length];
                for (int b = 0; b < rows.size(); b++) {
                    long[] row = rows.get(b);
                    assertTrue(row.length > seq, "held-out document too short");
                    System.arraycopy(row, 0, ids, b * seq, seq);
                    Arrays.fill(mask, b * seq, (b + 1) * seq, 1L);
                }
                OrtReference.Tensor logits = OrtReference.run(session, ids, mask, rows.size(), seq).get("logits");
                int vocab = (int) logits.shape()[2];
                double nll = 0;
                int n = 0;
                for (int b = 0; b < rows.size(); b++) {
                    for (int t = 0; t + 1 < seq; t++) {
                        int off = (b * seq + t) * vocab;
                        double max = Double.NEGATIVE_INFINITY;
                        for (int v = 0; v < vocab; v++) {
                            max = Math.max(max, logits.values()[off + v]);
                        }
                        double sum = 0;
                        for (int v = 0; v < vocab; v++) {
                            sum += Math.exp(logits.values()[off + v] - max);
                        }
                        nll += max + Math.log(sum) - logits.values()[off + (int) ids[b * seq + t + 1]];
                        n++;
                    }
                }
                double loss = nll / n;
                double baseline = unigram.get(domain).getAsDouble();
                System.out.printf("%s %s: held-out loss %.3f nats/token, unigram %.3f%n", modelDir, domain, loss,
                        baseline);
                assertTrue(loss < baseline - 1.0, domain + ": loss " + loss + " vs unigram " + baseline);
            }
        }
    }

    @Test
    void sidecarsDescribeHooksForEveryLayer() throws Exception {
        JsonObject moe = readJson(Fixtures.path(Fixtures.MOE_MODEL).resolve(Fixtures.SIDECAR_FILE));
        JsonObject dense = readJson(Fixtures.path(Fixtures.DENSE_MODEL).resolve(Fixtures.SIDECAR_FILE));
        assertEquals("moescope.export/1", moe.get("format").getAsString());
        int layers = moe.getAsJsonObject("model").get("num_layers").getAsInt();
        JsonArray moeOutputs = moe.getAsJsonArray("outputs");
        JsonArray denseOutputs = dense.getAsJsonArray("outputs");
        assertEquals(1 + 3 * layers, moeOutputs.size());
        assertEquals(1 + 2 * layers, denseOutputs.size());
        for (int l = 0; l < layers; l++) {
            assertEquals("blocks." + l + ".router_logits", moeOutputs.get(1 + 3 * l).getAsJsonObject()
                    .get("name").getAsString());
            assertEquals("blocks." + l + ".moe_out", moeOutputs.get(2 + 3 * l).getAsJsonObject()
                    .get("name").getAsString());
            assertEquals("blocks." + l + ".mlp_out", denseOutputs.get(1 + 2 * l).getAsJsonObject()
                    .get("name").getAsString());
            assertEquals("blocks." + l + ".resid_post", denseOutputs.get(2 + 2 * l).getAsJsonObject()
                    .get("name").getAsString());
        }
        assertTrue(dense.get("gating").isJsonNull());
        // the dense twin's FFN has the MoE's active width
        JsonObject m = moe.getAsJsonObject("model");
        assertEquals(m.get("ffn_hidden").getAsInt() * moe.getAsJsonObject("gating").get("top_k").getAsInt(),
                dense.getAsJsonObject("model").get("ffn_hidden").getAsInt());
    }

    static JsonObject readJson(Path file) throws Exception {
        try (BufferedReader r = Files.newBufferedReader(file)) {
            return JsonParser.parseReader(r).getAsJsonObject();
        }
    }
}
