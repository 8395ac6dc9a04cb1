package dev.moescope.probe.testgraphs;

import ai.onnx.proto.OnnxMl.ModelProto;

import java.util.Random;

import static dev.moescope.probe.testgraphs.OnnxGraphBuilder.FLOAT;
import static dev.moescope.probe.testgraphs.OnnxGraphBuilder.INT64;
import static dev.moescope.probe.testgraphs.OnnxGraphBuilder.intAttr;

/**
 * A numeric 2-layer MoE language model built directly as an ONNX graph, with an independent Java reference.
 * Per layer: {@code h_mid = h + tanh(h·Wa)} (an attention stand-in), {@code x = h_mid ⊙ γ} (a norm stand-in),
 * router {@code MatMul(x, Wr)} → Softmax → TopK(k) → renormalise → scattered into a dense [T, E] weight matrix;
 * every expert {@code relu(x·Wup_e)·Wdown_e} computed densely; the weighted sum is added to {@code h_mid}.
 * Unembedding {@code MatMul(h, W_U)} reshaped to [batch, seq, vocab] is the only output ({@code logits}).
 * No tensor carries a hook name: detection has to work from structure.
 */
public final class TinyMoeGraph {

    public static final int V = 16;
    public static final int H = 8;
    public static final int E = 4;
    public static final int F = 6;
    public static final int LAYERS = 2;
    public static final int K = 2;

    final float[] emb;
    final float[][] wa = new float[LAYERS][];
    final float[][] gamma = new float[LAYERS][];
    final float[][] wr = new float[LAYERS][];
    final float[][] wup = new float[LAYERS][];
    final float[][] wdown = new float[LAYERS][];
    final float[] wu;

    public TinyMoeGraph(long seed) {
        Random r = new Random(seed);
        emb = rand(r, V * H, 1.0);
        for (int l = 0; l < LAYERS; l++) {
            wa[l] = rand(r, H * H, 0.5);
            gamma[l] = new float[H];
            for (int i = 0; i < H; i++) {
                gamma[l][i] = (float) (0.5 + r.nextDouble());
            }
            wr[l] = rand(r, H * E, 1.5);
            wup[l] = rand(r, H * E * F, 0.6);
            wdown[l] = rand(r, E * F * H, 0.6);
        }
        wu = rand(r, H * V, 1.0);
    }

    private static float[] rand(Random r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * scale);
        }
        return a;
    }

    /** The graph. {@code routerBias} adds a constant bias after the router MatMul (GPT-OSS style). */
    public ModelProto model() {
        OnnxGraphBuilder b = new OnnxGraphBuilder();
        b.input("input_ids", INT64, "batch", "seq");
        b.output("logits", FLOAT, "batch", "seq", V);
        b.init("embed.weight", emb, V, H);
        b.initLong("shape_flat", new long[]{-1, H}, 2);
        b.initLong("shape_experts", new long[]{-1, E, F}, 3);
        b.initLong("k", new long[]{K}, 1);
        b.initLong("axis_last", new long[]{-1}, 1);
        b.initLong("axis_1", new long[]{1}, 1);
        b.initLong("axis_2", new long[]{2}, 1);
        b.initLong("vocab", new long[]{V}, 1);
        b.init("zero", new float[]{0f});
        String emb = b.node("Gather", "/model/embed/Gather_output_0", new String[]{"embed.weight", "input_ids"});
        String h = b.node("Reshape", "/model/embed/Reshape_output_0", new String[]{emb, "shape_flat"});
        for (int l = 0; l < LAYERS; l++) {
            String p = "/model/layers." + l;
            b.init(p + ".attn.weight", wa[l], H, H);
            b.init(p + ".norm.weight", gamma[l], H);
            b.init(p + ".gate.weight", wr[l], H, E);
            b.init(p + ".experts.up", wup[l], H, (long) E * F);
            b.init(p + ".experts.down", wdown[l], E, F, H);
            String attn = b.node("Tanh", null, new String[]{b.node("MatMul", null, new String[]{h, p + ".attn.weight"})});
            String hMid = b.node("Add", p + "/attn/Add_output_0", new String[]{h, attn});
            String x = b.node("Mul", p + "/norm/Mul_output_0", new String[]{hMid, p + ".norm.weight"});
            String logits = b.node("MatMul", p + "/mlp/gate/MatMul_output_0", new String[]{x, p + ".gate.weight"});
            String probs = b.node("Softmax", null, new String[]{logits}, intAttr("axis", -1));
            String vals = p + "/mlp/TopK_values";
            String idx = p + "/mlp/TopK_indices";
            b.nodeMulti("TopK", p + "/mlp/TopK", null, new String[]{probs, "k"}, new String[]{vals, idx},
                    intAttr("axis", -1));
            String sum = b.node("ReduceSum", null, new String[]{vals, "axis_last"}, intAttr("keepdims", 1));
            String w = b.node("Div", null, new String[]{vals, sum});
            String zeros = b.node("Mul", null, new String[]{probs, "zero"});
            String dense = b.node("ScatterElements", null, new String[]{zeros, idx, w}, intAttr("axis", -1));
            String up = b.node("Relu", null, new String[]{b.node("MatMul", null, new String[]{x, p + ".experts.up"})});
            String upE = b.node("Transpose", null, new String[]{b.node("Reshape", null, new String[]{up, "shape_experts"})},
                    OnnxGraphBuilder.intsAttr("perm", 1, 0, 2));
            String down = b.node("Transpose", null, new String[]{b.node("MatMul", null, new String[]{upE, p + ".experts.down"})},
                    OnnxGraphBuilder.intsAttr("perm", 1, 0, 2));
            String weighted = b.node("Mul", null, new String[]{down, b.node("Unsqueeze", null, new String[]{dense, "axis_2"})});
            String moe = b.node("ReduceSum", p + "/mlp/ReduceSum_output_0", new String[]{weighted, "axis_1"},
                    intAttr("keepdims", 0));
            h = b.node("Add", p + "/Add_1_output_0", new String[]{hMid, moe});
        }
        String flat = b.node("MatMul", null, new String[]{h, "lm_head.weight"});
        b.init("lm_head.weight", wu, H, V);
        String shape = b.node("Concat", null, new String[]{b.node("Shape", null, new String[]{"input_ids"}), "vocab"},
                intAttr("axis", 0));
        b.node("Reshape", "logits", new String[]{flat, shape});
        return b.build();
    }

    /** Reference activations for a flat token list, computed in Java with top-{@code k} renormalised routing. */
    public Reference reference(long[] ids, int k) {
        return reference(ids, k, true);
    }

    /** As {@link #reference(long[], int)}; {@code renormalise = false} keeps the raw softmax weights. */
    public Reference reference(long[] ids, int k, boolean renormalise) {
        int t = ids.length;
        Reference ref = new Reference(t);
        double[][] h = new double[t][H];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < H; j++) {
                h[i][j] = emb[(int) ids[i] * H + j];
            }
        }
        for (int l = 0; l < LAYERS; l++) {
            for (int i = 0; i < t; i++) {
                double[] hm = new double[H];
                for (int j = 0; j < H; j++) {
                    double a = 0;
                    for (int q = 0; q < H; q++) {
                        a += h[i][q] * wa[l][q * H + j];
                    }
                    hm[j] = h[i][j] + Math.tanh(a);
                }
                double[] x = new double[H];
                for (int j = 0; j < H; j++) {
                    x[j] = hm[j] * gamma[l][j];
                }
                double[] lg = new double[E];
                for (int e = 0; e < E; e++) {
                    for (int q = 0; q < H; q++) {
                        lg[e] += x[q] * wr[l][q * E + e];
                    }
                }
                double max = Double.NEGATIVE_INFINITY;
                for (double v : lg) {
                    max = Math.max(max, v);
                }
                double[] pr = new double[E];
                double z = 0;
                for (int e = 0; e < E; e++) {
                    pr[e] = Math.exp(lg[e] - max);
                    z += pr[e];
                }
                Integer[] order = new Integer[E];
                for (int e = 0; e < E; e++) {
                    pr[e] /= z;
                    order[e] = e;
                }
                final double[] prf = pr;
                java.util.Arrays.sort(order, (a, c) -> prf[c] != prf[a] ? Double.compare(prf[c], prf[a]) : a - c);
                double sel = 0;
                for (int r = 0; r < k; r++) {
                    sel += pr[order[r]];
                }
                double[] moe = new double[H];
                for (int r = 0; r < k; r++) {
                    int e = order[r];
                    double w = renormalise ? pr[e] / sel : pr[e];
                    double[] up = new double[F];
                    for (int f = 0; f < F; f++) {
                        double a = 0;
                        for (int q = 0; q < H; q++) {
                            a += x[q] * wup[l][q * E * F + e * F + f];
                        }
                        up[f] = Math.max(0, a);
                    }
                    for (int j = 0; j < H; j++) {
                        double a = 0;
                        for (int f = 0; f < F; f++) {
                            a += up[f] * wdown[l][(e * F + f) * H + j];
                        }
                        moe[j] += w * a;
                    }
                }
                for (int j = 0; j < H; j++) {
                    ref.residMid[l][i * H + j] = (float) hm[j];
                    ref.moeOut[l][i * H + j] = (float) moe[j];
                    h[i][j] = hm[j] + moe[j];
                    ref.residPost[l][i * H + j] = (float) h[i][j];
                }
                for (int e = 0; e < E; e++) {
                    ref.routerLogits[l][i * E + e] = (float) lg[e];
                }
            }
        }
        for (int i = 0; i < t; i++) {
            for (int v = 0; v < V; v++) {
                double a = 0;
                for (int q = 0; q < H; q++) {
                    a += h[i][q] * wu[q * V + v];
                }
                ref.logits[i * V + v] = (float) a;
            }
        }
        return ref;
    }

    /** Logits of one residual row: {@code h · W_U}. */
    public float[] unembed(float[] h, int offset) {
        float[] out = new float[V];
        for (int v = 0; v < V; v++) {
            double a = 0;
            for (int q = 0; q < H; q++) {
                a += h[offset + q] * wu[q * V + v];
            }
            out[v] = (float) a;
        }
        return out;
    }

    /** Per-layer reference tensors, row-major over tokens. */
    public static final class Reference {
        public final float[][] routerLogits;
        public final float[][] residMid;
        public final float[][] moeOut;
        public final float[][] residPost;
        public final float[] logits;

        Reference(int t) {
            routerLogits = new float[LAYERS][t * E];
            residMid = new float[LAYERS][t * H];
            moeOut = new float[LAYERS][t * H];
            residPost = new float[LAYERS][t * H];
            logits = new float[t * V];
        }
    }
}
