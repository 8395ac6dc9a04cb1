package dev.moescope.cli.doctor;

import ai.djl.engine.Engine;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import dev.moescope.core.djl.DjlRuntime;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * One small real computation with each native library moescope loads: libtorch through DJL (a matrix product and
 * a gradient), ONNX Runtime (a MatMul graph built here in memory) and Hugging Face tokenizers (a word-level
 * tokenizer). Each returns a one-line description or throws with what went wrong.
 */
public final class NativeChecks {

    private NativeChecks() {
    }

    /** libtorch via DJL: {@code [[1,2],[3,4]]·[[1],[1]] = [[3],[7]]}, and d/dx Σx² = 2x. */
    public static String pytorch(int threads) {
        Engine engine = DjlRuntime.pytorch(threads);
        try (NDManager m = engine.newBaseManager()) {
            NDArray a = m.create(new float[] {1, 2, 3, 4}, new ai.djl.ndarray.types.Shape(2, 2));
            float[] prod = a.matMul(m.ones(new ai.djl.ndarray.types.Shape(2, 1))).toFloatArray();
            expect("libtorch matmul", prod, new float[] {3, 7});
            NDArray x = m.create(new float[] {1, -2, 3});
            x.setRequiresGradient(true);
            try (GradientCollector gc = engine.newGradientCollector()) {
                gc.backward(x.mul(x).sum());
            }
            expect("libtorch autograd", x.getGradient().toFloatArray(), new float[] {2, -4, 6});
            return "PyTorch " + engine.getVersion() + " via DJL " + Engine.getDjlVersion() + ": matmul and autograd ok ("
                    + engine.getGpuCount() + " GPUs visible)";
        }
    }

    /** ONNX Runtime: runs {@code Y = X·W} for a graph built here, with {@code W = [[1,0],[0,2]]}. */
    public static String onnxRuntime() throws OrtException {
        byte[] model = matMulModel();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
             OrtSession session = env.createSession(model, opts);
             OnnxTensor x = OnnxTensor.createTensor(env, new float[][] {{1, 2}, {3, 4}});
             OrtSession.Result r = session.run(Map.of("X", x))) {
            float[][] y = (float[][]) r.get(0).getValue();
            expect("onnxruntime MatMul", new float[] {y[0][0], y[0][1], y[1][0], y[1][1]}, new float[] {1, 4, 3, 8});
            return "ONNX Runtime " + env.getVersion() + ": MatMul ok (providers " + OrtEnvironment.getAvailableProviders()
                    + ")";
        }
    }

    /** Hugging Face tokenizers: a word-level vocabulary encodes "mixture of experts" as [1, 2, 3]. */
    public static String tokenizers() throws IOException {
        String json = """
                {"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":null,
                 "pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,
                 "model":{"type":"WordLevel","vocab":{"[UNK]":0,"mixture":1,"of":2,"experts":3},"unk_token":"[UNK]"}}
                """;
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(
                new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), Map.of("addSpecialTokens", "false"))) {
            Encoding e = tok.encode("mixture of experts");
            long[] ids = e.getIds();
            if (!Arrays.equals(ids, new long[] {1, 2, 3})) {
                throw new IllegalStateException("tokenizers: expected ids [1, 2, 3], got " + Arrays.toString(ids));
            }
            return "Hugging Face tokenizers (DJL): encode ok";
        }
    }

    static byte[] matMulModel() {
        ByteBuffer w = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        w.putFloat(1).putFloat(0).putFloat(0).putFloat(2);
        OnnxMl.TensorProto weight = OnnxMl.TensorProto.newBuilder()
                .setName("W").setDataType(OnnxMl.TensorProto.DataType.FLOAT.getNumber())
                .addDims(2).addDims(2).setRawData(ByteString.copyFrom(w.array())).build();
        OnnxMl.GraphProto graph = OnnxMl.GraphProto.newBuilder()
                .setName("doctor")
                .addInitializer(weight)
                .addInput(floatMatrix("X"))
                .addOutput(floatMatrix("Y"))
                .addNode(OnnxMl.NodeProto.newBuilder().setOpType("MatMul").addInput("X").addInput("W").addOutput("Y"))
                .build();
        return OnnxMl.ModelProto.newBuilder()
                .setIrVersion(8)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setVersion(17))
                .setGraph(graph)
                .build()
                .toByteArray();
    }

    private static OnnxMl.ValueInfoProto floatMatrix(String name) {
        OnnxMl.TensorShapeProto shape = OnnxMl.TensorShapeProto.newBuilder()
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(2))
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(2)).build();
        return OnnxMl.ValueInfoProto.newBuilder().setName(name)
                .setType(OnnxMl.TypeProto.newBuilder().setTensorType(OnnxMl.TypeProto.Tensor.newBuilder()
                        .setElemType(OnnxMl.TensorProto.DataType.FLOAT.getNumber()).setShape(shape)))
                .build();
    }

    private static void expect(String what, float[] got, float[] want) {
        for (int i = 0; i < want.length; i++) {
            if (Math.abs(got[i] - want[i]) > 1e-5f) {
                throw new IllegalStateException(what + ": expected " + Arrays.toString(want) + ", got "
                        + Arrays.toString(got));
            }
        }
    }
}
