package dev.moescope.probe.graph;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Element types of every tensor of a graph. ONNX Runtime does not need shapes for an extra graph output, but it
 * needs the right element type; exports rarely carry {@code value_info} for intermediates, so the type is
 * propagated through the nodes by each operator's typing rule (declared {@code value_info} wins).
 */
final class ElementTypes {

    static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    static final int INT64 = TensorProto.DataType.INT64_VALUE;
    static final int BOOL = TensorProto.DataType.BOOL_VALUE;

    /** Ops whose outputs are all int64. */
    private static final Set<String> INT64_OUT = Set.of("Shape", "Size", "NonZero", "ArgMax", "ArgMin");
    /** Ops whose outputs are all bool. */
    private static final Set<String> BOOL_OUT = Set.of("Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual",
            "Not", "And", "Or", "Xor", "IsNaN", "IsInf");

    private ElementTypes() {
    }

    static Map<String, Integer> infer(GraphProto g, GraphIndex index) {
        Map<String, Integer> t = new HashMap<>();
        for (TensorProto init : g.getInitializerList()) {
            t.put(init.getName(), init.getDataType());
        }
        for (ValueInfoProto v : g.getInputList()) {
            put(t, v);
        }
        for (NodeProto n : g.getNodeList()) {
            int[] outs = outputTypes(n, t, index);
            for (int i = 0; i < n.getOutputCount(); i++) {
                if (outs[i] != 0 && !n.getOutput(i).isEmpty()) {
                    t.put(n.getOutput(i), outs[i]);
                }
            }
        }
        // declared types take precedence over the propagated ones
        for (ValueInfoProto v : g.getValueInfoList()) {
            put(t, v);
        }
        for (ValueInfoProto v : g.getOutputList()) {
            put(t, v);
        }
        return t;
    }

    private static void put(Map<String, Integer> t, ValueInfoProto v) {
        if (v.hasType() && v.getType().hasTensorType() && v.getType().getTensorType().getElemType() != 0) {
            t.put(v.getName(), v.getType().getTensorType().getElemType());
        }
    }

    private static int[] outputTypes(NodeProto n, Map<String, Integer> t, GraphIndex index) {
        int[] out = new int[n.getOutputCount()];
        String op = n.getOpType();
        int in0 = n.getInputCount() > 0 ? t.getOrDefault(n.getInput(0), 0) : 0;
        int fill;
        switch (op) {
            case "Cast" -> fill = (int) GraphIndex.intAttr(n, "to", 0);
            case "CastLike" -> fill = n.getInputCount() > 1 ? t.getOrDefault(n.getInput(1), 0) : 0;
            case "Constant" -> fill = constantType(n);
            case "ConstantOfShape" -> {
                fill = FLOAT; // the ONNX default value is float 0
                for (AttributeProto a : n.getAttributeList()) {
                    if (a.getName().equals("value") && a.hasT()) {
                        fill = a.getT().getDataType();
                    }
                }
            }
            case "Where" -> fill = n.getInputCount() > 1 ? t.getOrDefault(n.getInput(1), 0) : 0;
            case "OneHot" -> fill = n.getInputCount() > 2 ? t.getOrDefault(n.getInput(2), 0) : 0;
            case "TopK" -> {
                // values keep the input's type, indices are int64
                out[0] = in0;
                if (out.length > 1) {
                    out[1] = INT64;
                }
                return out;
            }
            case "MaxPool" -> {
                out[0] = in0;
                if (out.length > 1) {
                    out[1] = INT64;
                }
                return out;
            }
            default -> {
                if (INT64_OUT.contains(op)) {
                    fill = INT64;
                } else if (BOOL_OUT.contains(op)) {
                    fill = BOOL;
                } else {
                    // element-wise, MatMul, normalisations, Gather, Reshape, Concat, contrib MoE ...: the first
                    // typed data input decides (skipping an int index input such as Gather's is wrong only for
                    // ops whose first input is an index, which none of these is)
                    fill = in0;
                    if (fill == 0) {
                        for (String in : n.getInputList()) {
                            fill = t.getOrDefault(in, 0);
                            if (fill != 0) {
                                break;
                            }
                        }
                    }
                }
            }
        }
        java.util.Arrays.fill(out, fill);
        // LayerNormalization-style ops return float statistics; their mean/inv-std outputs follow input type in
        // practice (stash_type aside), which the fill above already gives.
        return out;
    }

    private static int constantType(NodeProto n) {
        for (AttributeProto a : n.getAttributeList()) {
            switch (a.getName()) {
                case "value" -> {
                    return a.getT().getDataType();
                }
                case "value_float", "value_floats" -> {
                    return FLOAT;
                }
                case "value_int", "value_ints" -> {
                    return INT64;
                }
                default -> {
                }
            }
        }
        return 0;
    }

    /** ONNX type number to a readable name. */
    static String name(int type) {
        TensorProto.DataType dt = TensorProto.DataType.forNumber(type);
        return dt == null ? "type " + type : dt.name().toLowerCase(java.util.Locale.ROOT);
    }
}
