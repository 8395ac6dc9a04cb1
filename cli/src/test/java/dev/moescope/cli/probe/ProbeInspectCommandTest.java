package dev.moescope.cli.probe;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.cli.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code moescope probe inspect}: detection printed as JSON, --spec, --out, and one-line errors with exit 3. */
public class ProbeInspectCommandTest {

    public static CliRun run(String... args) {
        return CliRun.of(args);
    }

    /** x → MatMul(router [8, 4]) → Softmax → TopK(2); x + Relu(x) as a stand-in MoE output. */
    static Path routerModel(Path dir, boolean withRouter) throws Exception {
        GraphProto.Builder g = GraphProto.newBuilder().setName("g");
        g.addInput(vi("x", TensorProto.DataType.FLOAT_VALUE));
        g.addOutput(vi("y", TensorProto.DataType.FLOAT_VALUE));
        TensorProto.Builder w = TensorProto.newBuilder().setName("router.weight")
                .setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(8).addDims(4);
        for (int i = 0; i < 32; i++) {
            w.addFloatData(i * 0.01f);
        }
        g.addInitializer(w);
        g.addInitializer(TensorProto.newBuilder().setName("k").setDataType(TensorProto.DataType.INT64_VALUE)
                .addDims(1).addInt64Data(2));
        if (withRouter) {
            g.addNode(node("MatMul", "logits", "x", "router.weight"));
            g.addNode(node("Softmax", "probs", "logits"));
            g.addNode(NodeProto.newBuilder().setOpType("TopK").setName("topk").addInput("probs").addInput("k")
                    .addOutput("vals").addOutput("idx"));
            g.addNode(node("ReduceSum", "s", "vals"));
            g.addNode(node("Mul", "moe", "x", "s"));
        } else {
            g.addNode(node("Relu", "moe", "x"));
        }
        g.addNode(node("Add", "y", "x", "moe"));
        ModelProto m = ModelProto.newBuilder().setIrVersion(8)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17)).setGraph(g).build();
        Path p = dir.resolve(withRouter ? "moe.onnx" : "dense.onnx");
        Files.write(p, m.toByteArray());
        return p;
    }

    static NodeProto node(String op, String out, String... in) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(op + "_" + out).addOutput(out);
        for (String i : in) {
            n.addInput(i);
        }
        if (op.equals("Softmax")) {
            n.addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(-1));
        }
        return n.build();
    }

    static ValueInfoProto vi(String name, int type) {
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(type))).build();
    }

    @Test
    void printsTheDetectedSpecAndWritesSummaryWithProvenance(@TempDir Path dir) throws Exception {
        Path model = routerModel(dir, true);
        Path out = dir.resolve("out");
        CliRun r = run("probe", "inspect", model.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonObject spec = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals(4, spec.get("numExperts").getAsInt());
        assertEquals("softmax-topk:e=4,k=2", spec.get("gating").getAsString()); // TopK values are never divided: raw weights
        JsonObject hooks = spec.getAsJsonArray("layers").get(0).getAsJsonObject().getAsJsonObject("hooks");
        assertEquals("logits", hooks.get("router_logits").getAsString());
        assertEquals("moe", hooks.get("moe_out").getAsString());
        assertEquals("x", hooks.get("resid_mid").getAsString());
        assertEquals("y", hooks.get("resid_post").getAsString());
        JsonObject summary = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject();
        assertEquals("probe inspect", summary.getAsJsonObject("provenance").get("operation").getAsString());
        assertTrue(Files.exists(out.resolve("probe-spec.json")));

        // the printed spec, edited, goes back in through --spec
        Path edited = dir.resolve("spec.json");
        Files.writeString(edited, r.out().replace("\"moe\"", "\"s\""));
        CliRun again = run("probe", "inspect", model.toString(), "--spec", edited.toString());
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("\"source\": \"spec file\""), again.out());
        Files.writeString(edited, r.out().replace("\"moe\"", "\"nothing_here\""));
        CliRun bad = run("probe", "inspect", model.toString(), "--spec", edited.toString());
        assertEquals(3, bad.code());
        assertEquals("moescope: " + edited + ": layer 0 hook moe_out: no tensor 'nothing_here' in the model",
                bad.err().strip());
    }

    @Test
    void aSidecarsGatingIsTheOneReportedWhenItDiffersFromTheGraphsGuess(@TempDir Path dir) throws Exception {
        Path model = routerModel(dir, true);
        Files.writeString(dir.resolve("moescope-export.json"), "{\"gating\": {\"num_experts\": 4, \"top_k\": 2, "
                + "\"score_function\": \"softmax\", \"score_before_topk\": true, \"normalize_topk\": true}}");
        Path out = dir.resolve("out");
        CliRun r = run("probe", "inspect", model.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonObject summary = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject();
        assertEquals("softmax-topk:e=4,k=2", summary.get("graphGating").getAsString());
        assertTrue(summary.get("gating").getAsString().startsWith("softmax-topk-renorm"), summary.toString());
        assertTrue(r.err().contains("probe run will use softmax-topk-renorm"), r.err());
    }

    @Test
    void badModelsExitThreeWithOneLineNamingTheFile(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing.onnx");
        CliRun r = run("probe", "inspect", missing.toString());
        assertEquals(3, r.code());
        assertEquals("moescope: " + missing + ": no such model file", r.err().strip());

        Path corrupt = dir.resolve("corrupt.onnx");
        Files.writeString(corrupt, "\u0008\u0001garbage that is not an onnx model at all");
        r = run("probe", "inspect", corrupt.toString());
        assertEquals(3, r.code());
        assertTrue(r.err().startsWith("moescope: " + corrupt + ": not a valid ONNX model"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        Path dense = routerModel(dir, false);
        r = run("probe", "inspect", dense.toString());
        assertEquals(3, r.code());
        assertTrue(r.err().startsWith("moescope: " + dense + ": no router found"), r.err());
        assertTrue(r.err().contains("--spec"), r.err());
    }
}
