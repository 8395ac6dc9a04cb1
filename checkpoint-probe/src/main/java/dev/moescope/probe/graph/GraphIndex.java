package dev.moescope.probe.graph;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Lookup tables over one (top-level) graph: which node produces a tensor, which nodes consume it, the node order
 * (ONNX requires topological order), constant tensors (initializers and {@code Constant} nodes) with their dims,
 * and every tensor's element type ({@link ElementTypes}). Built once per graph; read-only.
 */
public final class GraphIndex {

    private final GraphProto graph;
    private final Map<String, NodeProto> producer = new HashMap<>();
    private final Map<String, List<NodeProto>> consumers = new HashMap<>();
    private final Map<NodeProto, Integer> order = new HashMap<>();
    private final Map<String, TensorProto> constants = new HashMap<>();
    private final Set<String> graphInputs = new LinkedHashSet<>();
    private final Set<String> graphOutputs = new LinkedHashSet<>();
    private final Map<String, Integer> elemTypes;

    public GraphIndex(GraphProto graph) {
        this.graph = graph;
        for (TensorProto t : graph.getInitializerList()) {
            constants.put(t.getName(), t);
        }
        for (ValueInfoProto v : graph.getInputList()) {
            graphInputs.add(v.getName());
        }
        for (ValueInfoProto v : graph.getOutputList()) {
            graphOutputs.add(v.getName());
        }
        for (int i = 0; i < graph.getNodeCount(); i++) {
            NodeProto n = graph.getNode(i);
            order.put(n, i);
            for (String out : n.getOutputList()) {
                if (!out.isEmpty()) {
                    producer.put(out, n);
                }
            }
            for (String in : n.getInputList()) {
                if (!in.isEmpty()) {
                    consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
                }
            }
            if (n.getOpType().equals("Constant") && n.getOutputCount() == 1) {
                for (AttributeProto a : n.getAttributeList()) {
                    if (a.getName().equals("value") && a.hasT()) {
                        constants.put(n.getOutput(0), a.getT());
                    }
                }
            }
        }
        elemTypes = ElementTypes.infer(graph, this);
    }

    public GraphProto graph() {
        return graph;
    }

    public NodeProto producer(String tensor) {
        return producer.get(tensor);
    }

    public List<NodeProto> consumers(String tensor) {
        return consumers.getOrDefault(tensor, List.of());
    }

    /** Position of {@code node} in the graph's (topological) node list. */
    public int order(NodeProto node) {
        return order.get(node);
    }

    /** The constant tensor (initializer, or a {@code Constant} node's value) named {@code tensor}, or null. */
    public TensorProto constant(String tensor) {
        return constants.get(tensor);
    }

    public boolean isGraphInput(String tensor) {
        return graphInputs.contains(tensor);
    }

    public boolean isGraphOutput(String tensor) {
        return graphOutputs.contains(tensor);
    }

    public Set<String> graphOutputs() {
        return graphOutputs;
    }

    /** Is the tensor defined anywhere in the graph (input, initializer, node output)? */
    public boolean exists(String tensor) {
        return producer.containsKey(tensor) || constants.containsKey(tensor) || graphInputs.contains(tensor);
    }

    /** ONNX {@code TensorProto.DataType} number of {@code tensor}, or 0 when it cannot be determined. */
    public int elemType(String tensor) {
        return elemTypes.getOrDefault(tensor, 0);
    }

    /** Int attribute of {@code node}, or {@code dflt}. */
    public static long intAttr(NodeProto node, String name, long dflt) {
        for (AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getI();
            }
        }
        return dflt;
    }

    /** Every tensor computed from {@code from} (itself included), found by one pass in topological order. */
    public Set<String> descendants(String from) {
        Set<String> dep = new HashSet<>();
        dep.add(from);
        NodeProto start = producer.get(from);
        int first = start == null ? 0 : order.get(start) + 1;
        for (int i = first; i < graph.getNodeCount(); i++) {
            NodeProto n = graph.getNode(i);
            for (String in : n.getInputList()) {
                if (dep.contains(in)) {
                    dep.addAll(n.getOutputList());
                    break;
                }
            }
        }
        return dep;
    }

    /** Every tensor {@code to} is computed from (itself included). */
    public Set<String> ancestors(String to) {
        Set<String> seen = new HashSet<>();
        List<String> stack = new ArrayList<>(List.of(to));
        while (!stack.isEmpty()) {
            String t = stack.remove(stack.size() - 1);
            if (!seen.add(t)) {
                continue;
            }
            NodeProto p = producer.get(t);
            if (p != null) {
                for (String in : p.getInputList()) {
                    if (!in.isEmpty()) {
                        stack.add(in);
                    }
                }
            }
        }
        return seen;
    }
}
