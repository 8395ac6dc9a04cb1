package dev.moescope.probe.graph;

import ai.onnx.proto.OnnxMl.ModelProto;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.probe.gating.Gate;
import dev.moescope.probe.gating.GatingConfig;
import dev.moescope.probe.gating.Routing;
import dev.moescope.probe.run.HostTensor;
import dev.moescope.probe.run.OrtRunner;
import dev.moescope.probe.run.TokenBatch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Detection and surgery on a graph from PyTorch's TorchScript exporter (src/test/python/export_tiny_mixtral.py):
 * a Mixtral-style block with SiLU experts, one_hot/where/index_add over all experts. Captured router logits,
 * Java top-k ids and the final logits (at k = 2 and with every TopK overridden to 1) are checked against values
 * PyTorch computed at export time.
 */
class TorchExportedMoeTest {

    @TempDir
    static Path dir;
    static Path model;
    static JsonObject ref;
    static TokenBatch batch;

    @BeforeAll
    static void copyResources() throws Exception {
        model = dir.resolve("tiny-mixtral.onnx");
        try (InputStream in = TorchExportedMoeTest.class.getResourceAsStream("/torch-export/tiny-mixtral.onnx")) {
            Files.copy(in, model);
        }
        try (InputStream in = TorchExportedMoeTest.class.getResourceAsStream("/torch-export/tiny-mixtral.reference.json")) {
            ref = JsonParser.parseString(new String(in.readAllBytes())).getAsJsonObject();
        }
        JsonArray ids = ref.getAsJsonArray("input_ids");
        int seq = ref.get("seq").getAsInt();
        List<long[]> seqs = new ArrayList<>();
        for (int b = 0; b < ref.get("batch").getAsInt(); b++) {
            long[] s = new long[seq];
            for (int t = 0; t < seq; t++) {
                s[t] = ids.get(b * seq + t).getAsLong();
            }
            seqs.add(s);
        }
        batch = TokenBatch.pad(seqs, 0);
    }

    static float[] floats(JsonArray a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = a.get(i).getAsFloat();
        }
        return f;
    }

    static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol, what + " [" + i + "]");
        }
    }

    @Test
    void detectsEachMoeLayerOfATorchScriptExport() {
        ProbeSpec spec = ProbeDetector.detect(ModelFiles.load(model), model);
        assertEquals(2, spec.layers().size(), spec.toJson());
        assertEquals("softmax-topk-renorm:e=8,k=2", spec.gating());
        for (int l = 0; l < 2; l++) {
            Map<String, String> h = spec.layer(l).hooks();
            assertEquals("/layers." + l + "/moe/gate/MatMul_output_0", h.get(ProbeSpec.ROUTER_LOGITS));
            assertEquals(l, spec.topK().get(l).layer());
        }
    }

    @Test
    void capturedRouterLogitsAndJavaTopKEqualPyTorch() {
        ModelProto proto = ModelFiles.load(model);
        ProbeSpec spec = ProbeDetector.detect(proto, model);
        ModelProto edited = GraphSurgery.expose(proto, spec.allHooks()).model();
        Map<String, HostTensor> out;
        try (OrtRunner r = OrtRunner.openEdited(OrtRunner.Config.cpu(model, 1), edited)) {
            out = r.run(batch, Set.of());
        }
        assertClose(floats(ref.getAsJsonArray("logits")), out.get("logits").floats(), 1e-4, "logits");
        Gate gate = new Gate(GatingConfig.parse(spec.gating(), 0));
        for (int l = 0; l < 2; l++) {
            JsonObject layer = ref.getAsJsonArray("layers").get(l).getAsJsonObject();
            float[] logits = out.get("blocks." + l + ".router_logits").floats();
            assertClose(floats(layer.getAsJsonArray("router_logits")), logits, 1e-5, "router logits " + l);
            JsonArray torchIds = layer.getAsJsonArray("topk_ids");
            for (int t = 0; t < logits.length / 8; t++) {
                Routing r = gate.route(logits, t * 8, l);
                assertEquals(torchIds.get(2 * t).getAsInt(), r.experts()[0], "layer " + l + " token " + t);
                assertEquals(torchIds.get(2 * t + 1).getAsInt(), r.experts()[1], "layer " + l + " token " + t);
            }
            // the residual bookkeeping is consistent: resid_post = resid_mid + moe_out
            float[] mid = out.get("blocks." + l + ".resid_mid").floats();
            float[] moe = out.get("blocks." + l + ".moe_out").floats();
            float[] post = out.get("blocks." + l + ".resid_post").floats();
            for (int i = 0; i < post.length; i++) {
                assertEquals(mid[i] + moe[i], post[i], 1e-5);
            }
        }
    }

    @Test
    void topKOverrideToOneMatchesPyTorchAtKOne() {
        ModelProto k1 = GraphSurgery.overrideTopK(ModelFiles.load(model), 1, null);
        try (OrtRunner r = OrtRunner.openEdited(OrtRunner.Config.cpu(model, 1), k1)) {
            float[] logits = r.run(batch, Set.of("logits")).get("logits").floats();
            assertClose(floats(ref.getAsJsonArray("logits_top1")), logits, 1e-4, "top-1 logits");
        }
    }
}
