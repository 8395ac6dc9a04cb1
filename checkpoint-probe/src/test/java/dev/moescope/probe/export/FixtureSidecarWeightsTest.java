package dev.moescope.probe.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.moescope.fixtures.Fixtures;
import dev.moescope.fixtures.NpyArray;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The tiny MoE's sidecar is enough to recompute the model from its graph's weights, as the probe's expert mode
 * will: the router, expert, final-norm and unembedding initializers it names exist with the documented layout,
 * and from the hook outputs of the reference batch they reproduce, per layer and token, the router logits, the
 * gating (softmax, top-2, renormalised) and the MoE output; the final norm and unembedding applied to the last
 * residual reproduce the logits (the logit lens identity).
 */
class FixtureSidecarWeightsTest {

    private static final double EPS = 1e-5;
    private static JsonObject model;
    private static JsonObject gating;
    private static Map<String, OnnxMl.TensorProto> weights;
    private static Map<String, NpyArray> reference;

    @BeforeAll
    static void load() throws Exception {
        Path dir = Fixtures.path(Fixtures.MOE_MODEL);
        JsonObject sidecar = FixtureModelsTest.readJson(dir.resolve(Fixtures.SIDECAR_FILE));
        model = sidecar.getAsJsonObject("model");
        gating = sidecar.getAsJsonObject("gating");
        weights = new HashMap<>();
        try (InputStream in = Files.newInputStream(dir.resolve(Fixtures.MODEL_FILE))) {
            for (OnnxMl.TensorProto t : OnnxMl.ModelProto.parseFrom(in).getGraph().getInitializerList()) {
                weights.put(t.getName(), t);
            }
        }
        reference = NpyArray.readNpz(dir.resolve(Fixtures.REFERENCE_FILE));
    }

    private static float[] floats(String name, long... shape) {
        OnnxMl.TensorProto t = weights.get(name);
        assertNotNull(t, "sidecar names " + name + " but the graph has no such initializer");
        assertEquals(OnnxMl.TensorProto.DataType.FLOAT_VALUE, t.getDataType(), name);
        assertEquals(Arrays.stream(shape).boxed().toList(), t.getDimsList(), name + " shape");
        float[] out = new float[t.getRawData().size() / 4];
        t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    /** y = W x for a torch Linear weight W [out, in]. */
    private static double[] linear(float[] w, int out, int in, double[] x) {
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = 0;
            for (int i = 0; i < in; i++) {
                s += w[o * in + i] * x[i];
            }
            y[o] = s;
        }
        return y;
    }

    private static double[] rmsNorm(double[] h, float[] gamma) {
        double ms = 0;
        for (double v : h) {
            ms += v * v;
        }
        double scale = 1 / Math.sqrt(ms / h.length + EPS);
        double[] out = new double[h.length];
        for (int i = 0; i < h.length; i++) {
            out[i] = h[i] * scale * gamma[i];
        }
        return out;
    }

    private static double[] row(float[] a, int index, int width) {
        double[] out = new double[width];
        for (int i = 0; i < width; i++) {
            out[i] = a[index * width + i];
        }
        return out;
    }

    @Test
    void sidecarWeightsRecomputeRouterLogitsGatingAndMoeOutput() {
        int hidden = model.get("hidden_size").getAsInt();
        int experts = gating.get("num_experts").getAsInt();
        int k = gating.get("top_k").getAsInt();
        long[] mask = reference.get("attention_mask").longs();
        double worstLogit = 0;
        double worstOut = 0;
        int tokens = 0;
        for (JsonElement layerEl : model.getAsJsonArray("moe_layers")) {
            int layer = layerEl.getAsInt();
            JsonObject names = model.getAsJsonObject("moe_weights").getAsJsonObject(String.valueOf(layer));
            assertTrue(names.get("layout").getAsString().startsWith("linear_per_expert"));
            JsonArray gateNames = names.getAsJsonArray("gate");
            assertEquals(experts, gateNames.size());
            int inner = (int) (long) weights.get(gateNames.get(0).getAsString()).getDims(0);
            float[] router = floats(names.get("router").getAsString(), experts, hidden);
            float[][] gate = new float[experts][];
            float[][] up = new float[experts][];
            float[][] down = new float[experts][];
            for (int e = 0; e < experts; e++) {
                gate[e] = floats(gateNames.get(e).getAsString(), inner, hidden);
                up[e] = floats(names.getAsJsonArray("up").get(e).getAsString(), inner, hidden);
                down[e] = floats(names.getAsJsonArray("down").get(e).getAsString(), hidden, inner);
            }
            // the MoE input is the post-attention norm of the residual before the MoE: resid_post - moe_out
            float[] gamma = floats("model.blocks." + layer + ".post_attention_norm.weight", hidden);
            float[] resid = reference.get("blocks." + layer + ".resid_post").floats();
            float[] moeOut = reference.get("blocks." + layer + ".moe_out").floats();
            float[] logitsOut = reference.get("blocks." + layer + ".router_logits").floats();
            for (int t = 0; t < mask.length; t++) {
                if (mask[t] == 0) {
                    continue;
                }
                double[] h = row(resid, t, hidden);
                double[] m = row(moeOut, t, hidden);
                for (int i = 0; i < hidden; i++) {
                    h[i] -= m[i];
                }
                double[] x = rmsNorm(h, gamma);
                double[] logits = linear(router, experts, hidden, x);
                for (int e = 0; e < experts; e++) {
                    worstLogit = Math.max(worstLogit, Math.abs(logits[e] - logitsOut[t * experts + e]));
                }
                // softmax over all experts, top-k, renormalised over the k (the sidecar's gating)
                assertEquals("softmax", gating.get("score_function").getAsString());
                float[] asFloat = new float[experts];
                for (int e = 0; e < experts; e++) {
                    asFloat[e] = (float) logits[e];
                }
                int[] top = OrtReference.topK(asFloat, 0, experts, k);
                double max = logits[top[0]];
                double z = 0;
                for (double l : logits) {
                    z += Math.exp(l - max);
                }
                double[] w = new double[k];
                double sum = 0;
                for (int j = 0; j < k; j++) {
                    w[j] = Math.exp(logits[top[j]] - max) / z;
                    sum += w[j];
                }
                double[] y = new double[hidden];
                for (int j = 0; j < k; j++) {
                    int e = top[j];
                    double[] g = linear(gate[e], inner, hidden, x);
                    double[] u = linear(up[e], inner, hidden, x);
                    double[] act = new double[inner];
                    for (int i = 0; i < inner; i++) {
                        act[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
                    }
                    double[] d = linear(down[e], hidden, inner, act);
                    for (int i = 0; i < hidden; i++) {
                        y[i] += w[j] / sum * d[i];
                    }
                }
                for (int i = 0; i < hidden; i++) {
                    worstOut = Math.max(worstOut, Math.abs(y[i] - m[i]));
                }
                tokens++;
            }
        }
        System.out.printf("recomputed from sidecar weights over %d token-layers: router logits max diff %.2g, "
                + "moe_out max diff %.2g%n", tokens, worstLogit, worstOut);
        assertTrue(tokens > 100);
        assertTrue(worstLogit < 1e-4, "router logits differ by " + worstLogit);
        assertTrue(worstOut < 1e-4, "moe_out differs by " + worstOut);
    }

    @Test
    void finalNormAndUnembeddingTurnTheLastResidualIntoTheLogits() {
        int hidden = model.get("hidden_size").getAsInt();
        int vocab = model.get("vocab_size").getAsInt();
        int last = model.get("num_layers").getAsInt() - 1;
        JsonObject norm = model.getAsJsonObject("final_norm");
        assertEquals("rmsnorm", norm.get("type").getAsString());
        assertEquals(EPS, norm.get("eps").getAsDouble(), 1e-12);
        float[] gamma = floats(norm.get("weight").getAsString(), hidden);
        float[] unembed = floats(model.get("unembedding").getAsString(), vocab, hidden);
        float[] resid = reference.get("blocks." + last + ".resid_post").floats();
        float[] logits = reference.get("logits").floats();
        int positions = (int) (reference.get("input_ids").size());
        double worst = 0;
        for (int t = 0; t < positions; t++) {
            double[] lens = linear(unembed, vocab, hidden, rmsNorm(row(resid, t, hidden), gamma));
            for (int v = 0; v < vocab; v++) {
                worst = Math.max(worst, Math.abs(lens[v] - logits[t * vocab + v]));
            }
        }
        assertTrue(worst < 1e-3, "logit lens of the last layer differs from logits by " + worst);
    }
}
