package dev.moescope.probe.testgraphs;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** A small ONNX graph builder for tests: initializers, nodes, inputs and outputs, written with optional external data. */
public final class OnnxGraphBuilder {

    public static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    public static final int FLOAT16 = TensorProto.DataType.FLOAT16_VALUE;
    public static final int INT64 = TensorProto.DataType.INT64_VALUE;

    private final GraphProto.Builder g = GraphProto.newBuilder().setName("test");
    private int counter;
    private boolean contribDomain;

    public String init(String name, float[] data, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : data) {
            b.putFloat(f);
        }
        g.addInitializer(TensorProto.newBuilder().setName(name).setDataType(FLOAT).addAllDims(boxed(dims))
                .setRawData(ByteString.copyFrom(b.array())));
        return name;
    }

    public String initLong(String name, long[] data, long... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(INT64).addAllDims(boxed(dims));
        for (long v : data) {
            t.addInt64Data(v);
        }
        g.addInitializer(t);
        return name;
    }

    /** A node with one output named {@code out} (or generated if null). */
    public String node(String op, String out, String[] inputs, AttributeProto... attrs) {
        String o = out != null ? out : op.toLowerCase() + "_" + (counter++);
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName("/" + op + "_" + (counter++)).addOutput(o);
        for (String in : inputs) {
            n.addInput(in);
        }
        for (AttributeProto a : attrs) {
            n.addAttribute(a);
        }
        g.addNode(n);
        return o;
    }

    /** A node with several outputs. */
    public void nodeMulti(String op, String name, String domain, String[] inputs, String[] outputs, AttributeProto... attrs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(name);
        if (domain != null) {
            n.setDomain(domain);
            contribDomain = true;
        }
        for (String in : inputs) {
            n.addInput(in);
        }
        for (String o : outputs) {
            n.addOutput(o);
        }
        for (AttributeProto a : attrs) {
            n.addAttribute(a);
        }
        g.addNode(n);
    }

    public static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    public static AttributeProto intsAttr(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) {
            a.addInts(x);
        }
        return a.build();
    }

    public static AttributeProto stringAttr(String name, String v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(v)).build();
    }

    /** A graph input; dims as numbers or symbolic names. */
    public void input(String name, int elemType, Object... dims) {
        g.addInput(valueInfo(name, elemType, dims));
    }

    public void output(String name, int elemType, Object... dims) {
        g.addOutput(valueInfo(name, elemType, dims));
    }

    private static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            if (d instanceof Number n) {
                s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(n.longValue()));
            } else {
                s.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(d.toString()));
            }
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s))).build();
    }

    public ModelProto build() {
        ModelProto.Builder m = ModelProto.newBuilder().setIrVersion(8).setProducerName("moescope-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setGraph(g.clone());
        if (contribDomain) {
            m.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("com.microsoft").setVersion(1));
        }
        return m.build();
    }

    /**
     * Writes the model to {@code file}; with {@code externalData}, every float initializer of at least 16 values
     * moves to {@code <file>.data} beside it (offsets and lengths recorded), as large exports store their weights.
     */
    public static void write(ModelProto model, Path file, boolean externalData) throws IOException {
        if (!externalData) {
            Files.write(file, model.toByteArray());
            return;
        }
        String dataName = file.getFileName() + ".data";
        GraphProto.Builder g = model.getGraph().toBuilder();
        long offset = 0;
        try (OutputStream out = Files.newOutputStream(file.resolveSibling(dataName))) {
            for (int i = 0; i < g.getInitializerCount(); i++) {
                TensorProto t = g.getInitializer(i);
                if (t.getDataType() != FLOAT || t.getRawData().size() < 64) {
                    continue;
                }
                byte[] raw = t.getRawData().toByteArray();
                out.write(raw);
                g.setInitializer(i, t.toBuilder().clearRawData()
                        .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                        .addExternalData(entry("location", dataName))
                        .addExternalData(entry("offset", Long.toString(offset)))
                        .addExternalData(entry("length", Long.toString(raw.length))));
                offset += raw.length;
            }
        }
        Files.write(file, model.toBuilder().setGraph(g).build().toByteArray());
    }

    private static StringStringEntryProto entry(String k, String v) {
        return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
    }

    private static Iterable<Long> boxed(long[] dims) {
        java.util.List<Long> l = new java.util.ArrayList<>();
        for (long d : dims) {
            l.add(d);
        }
        return l;
    }
}
