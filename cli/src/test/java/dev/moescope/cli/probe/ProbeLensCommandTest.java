package dev.moescope.cli.probe;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.cli.CliRun;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static dev.moescope.cli.probe.ProbeInspectCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code moescope probe lens} end to end on a small MoE language model written here, and its bad-input errors. */
public class ProbeLensCommandTest {

    static final int V = 12;
    static final int H = 6;
    static final int E = 4;

    @TempDir
    static Path dir;
    static Path model;
    static Path tokenizer;
    static Path corpus;

    @BeforeAll
    static void setUp() throws Exception {
        model = dir.resolve("lm.onnx");
        Files.write(model, moeLm().toByteArray());
        tokenizer = dir.resolve("tokenizer.json");
        StringBuilder vocab = new StringBuilder("\"[UNK]\":0");
        String[] words = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"};
        for (int i = 0; i < words.length; i++) {
            vocab.append(",\"").append(words[i]).append("\":").append(i + 1);
        }
        Files.writeString(tokenizer, "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[],"
                + "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Whitespace\"},\"post_processor\":null,"
                + "\"decoder\":null,\"model\":{\"type\":\"WordLevel\",\"vocab\":{" + vocab + "},\"unk_token\":\"[UNK]\"}}");
        corpus = dir.resolve("corpus.jsonl");
        Files.writeString(corpus, "{\"text\":\"a b c d e f a b c\",\"domain\":\"x\"}\n"
                + "{\"text\":\"k j i h g k j i h g k\",\"domain\":\"y\"}\n");
    }

    /** input_ids → embedding → MoE (router, softmax, top-2 renormalised, dense experts) + residual → unembedding. */
    public static ModelProto moeLm() {
        Random r = new Random(2);
        GraphProto.Builder g = GraphProto.newBuilder().setName("lm");
        g.addInput(vi("input_ids", TensorProto.DataType.INT64_VALUE, "batch", "seq"));
        g.addOutput(vi("logits", TensorProto.DataType.FLOAT_VALUE, "batch", "seq", V));
        g.addInitializer(floats("emb", r, V, H));
        g.addInitializer(floats("router", r, H, E));
        g.addInitializer(floats("experts", r, H, E * H));
        g.addInitializer(floats("unembed", r, H, V));
        g.addInitializer(longs("k", 2));
        g.addInitializer(longs("last", -1));
        g.addInitializer(longs("expert_shape", 0, 0, E, H));
        g.addInitializer(longs("axis2", 2));
        g.addInitializer(TensorProto.newBuilder().setName("zero").setDataType(TensorProto.DataType.FLOAT_VALUE).addFloatData(0));
        g.addNode(node("Gather", new String[]{"emb", "input_ids"}, "h0"));
        g.addNode(node("MatMul", new String[]{"h0", "router"}, "router_logits"));
        g.addNode(node("Softmax", new String[]{"router_logits"}, "probs", attr("axis", -1)));
        g.addNode(NodeProto.newBuilder().setOpType("TopK").setName("topk").addInput("probs").addInput("k")
                .addOutput("vals").addOutput("idx").addAttribute(attr("axis", -1)));
        g.addNode(node("ReduceSum", new String[]{"vals", "last"}, "vsum", attr("keepdims", 1)));
        g.addNode(node("Div", new String[]{"vals", "vsum"}, "w"));
        g.addNode(node("Mul", new String[]{"probs", "zero"}, "zeros"));
        g.addNode(node("ScatterElements", new String[]{"zeros", "idx", "w"}, "dense", attr("axis", -1)));
        g.addNode(node("MatMul", new String[]{"h0", "experts"}, "up"));
        g.addNode(node("Tanh", new String[]{"up"}, "act"));
        g.addNode(node("Reshape", new String[]{"act", "expert_shape"}, "per_expert"));
        g.addNode(node("Unsqueeze", new String[]{"dense", "last"}, "dense4"));
        g.addNode(node("Mul", new String[]{"per_expert", "dense4"}, "weighted"));
        g.addNode(node("ReduceSum", new String[]{"weighted", "axis2"}, "moe", attr("keepdims", 0)));
        g.addNode(node("Add", new String[]{"h0", "moe"}, "h1"));
        g.addNode(node("MatMul", new String[]{"h1", "unembed"}, "logits"));
        return ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17))
                .setGraph(g).build();
    }

    static TensorProto floats(String name, Random r, int rows, int cols) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addDims(rows).addDims(cols);
        for (int i = 0; i < rows * cols; i++) {
            t.addFloatData((float) r.nextGaussian());
        }
        return t.build();
    }

    static TensorProto longs(String name, long... v) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE)
                .addDims(v.length);
        for (long x : v) {
            t.addInt64Data(x);
        }
        return t.build();
    }

    static NodeProto node(String op, String[] in, String out, AttributeProto... attrs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(op + "_" + out).addOutput(out);
        for (String i : in) {
            n.addInput(i);
        }
        for (AttributeProto a : attrs) {
            n.addAttribute(a);
        }
        return n.build();
    }

    static AttributeProto attr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    static ValueInfoProto vi(String name, int type, Object... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            s.addDim(d instanceof Integer i ? TensorShapeProto.Dimension.newBuilder().setDimValue(i)
                    : TensorShapeProto.Dimension.newBuilder().setDimParam(d.toString()));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type).setShape(s))).build();
    }

    String[] args(String... extra) {
        return args(tokenizer, corpus, extra);
    }

    String[] args(Path tok, Path text, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("probe", "lens", model.toString(), "--tokenizer",
                tok.toString(), "--corpus", text.toString(), "--seq-len", "4", "--overlap", "1",
                "--batch", "2", "--no-progress"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void writesPerplexityCosineAndLensWithTheLastLayerReproducingTheLogits() throws Exception {
        Path out = dir.resolve("lens");
        CliRun r = run(args("--out", out.toString(), "--both-variants"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("k=1 raw           perplexity"), r.out());
        assertTrue(r.out().contains("2 documents, 20 tokens, 1 MoE layers, model k = 2 (renormalised"), r.out());
        assertTrue(r.out().contains("k=1 model         perplexity"), r.out());
        JsonObject s = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject();
        assertEquals("probe lens", s.getAsJsonObject("provenance").get("operation").getAsString());
        JsonObject report = s.getAsJsonObject("report");
        assertTrue(report.get("lastLayerMaxAbsDiff").getAsDouble() < 1e-4, report.toString());
        assertEquals(1.0, report.getAsJsonArray("logitLens").get(0).getAsJsonObject().get("top1Agreement").getAsDouble());
        // k = 1, 2, model weighting and raw, for domains all, x, y
        assertEquals(1 + 12, Files.readAllLines(out.resolve("perplexity.csv")).size());
        List<String> cos = Files.readAllLines(out.resolve("cosine.csv"));
        assertEquals(List.of("k,variant,layer,mean_cosine_vs_full_k", "1,model,0"), List.of(cos.get(0),
                cos.get(1).substring(0, cos.get(1).lastIndexOf(','))), cos.toString());
        assertEquals(4, cos.size(), cos.toString());
        assertTrue(Files.size(out.resolve("cosine_and_lens_by_layer.png")) > 1000);
        // the edited models are opened from memory: nothing is written beside the original
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().contains(".moescope-")).toList());
        }
    }

    @Test
    void badInputsExitThreeWithOneLine() throws Exception {
        Path out = dir.resolve("bad");
        CliRun r = run(args("--out", out.toString(), "--domain-field", "topic"));
        assertEquals(3, r.code(), r.out() + r.err());
        assertEquals("moescope: " + corpus + ": line 1: no string field 'topic' (fields: [text, domain]; pass "
                + "--domain-field NAME to read another field, or --domain-field none if the corpus has no domains)",
                r.err().strip());

        Path big = dir.resolve("big-tokenizer.json");
        Files.writeString(big, Files.readString(tokenizer).replace("\"k\":11", "\"k\":11,\"l\":12,\"m\":13"));
        r = run(args(big, corpus, "--out", out.toString()));
        assertEquals(3, r.code());
        assertTrue(r.err().contains("tokenizer vocabulary (14 ids) is larger than the model's embedding (12 rows)"), r.err());

        Path empty = dir.resolve("empty.jsonl");
        Files.writeString(empty, "");
        r = run(args(tokenizer, empty, "--out", out.toString()));
        assertEquals(3, r.code());
        assertEquals("moescope: " + empty + ": the corpus has no documents", r.err().strip());

        r = run(args("--out", out.toString(), "--device", "cuda"));
        assertEquals(3, r.code());
        assertTrue(r.err().startsWith("moescope: --device cuda:0: the CUDA execution provider cannot be loaded"), r.err());

        r = run(args("--out", out.toString(), "--k", "3"));
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(!Files.exists(out.resolve("summary.json")), "nothing written on failure");
    }
}
