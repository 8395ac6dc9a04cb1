package dev.moescope.probe.graph;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.moescope.core.error.MoescopeException;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Edits of an ONNX graph that ONNX Runtime's Java API cannot do itself. Each returns a new {@code ModelProto};
 * open it with {@link dev.moescope.probe.run.OrtRunner#openEdited}, which resolves external data against the
 * original's directory. Initializers are never touched, so external-data references stay as they are.
 */
public final class GraphSurgery {

    private GraphSurgery() {
    }

    /** A model with extra outputs, and the output name each requested tensor got. */
    public record Exposed(ModelProto model, Map<String, String> outputs) {
    }

    /**
     * Makes each tensor of {@code aliasToTensor} a graph output called by its alias (via an {@code Identity} node;
     * the values are the tensor's own). A tensor already a graph output under that alias is left alone; if the alias
     * names another tensor already, the tensor is exposed under its own name. Element types come from
     * {@link GraphIndex#elemType}; an undeterminable type is an error naming the tensor.
     */
    public static Exposed expose(ModelProto model, Map<String, String> aliasToTensor) {
        GraphIndex idx = new GraphIndex(model.getGraph());
        GraphProto.Builder g = model.getGraph().toBuilder();
        Set<String> outputs = new HashSet<>(idx.graphOutputs());
        Map<String, String> result = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : aliasToTensor.entrySet()) {
            String alias = e.getKey();
            String tensor = e.getValue();
            if (!idx.exists(tensor)) {
                throw MoescopeException.badInput("no tensor '" + tensor + "' in the model (for " + alias + ")");
            }
            if (alias.equals(tensor) && outputs.contains(tensor)) {
                result.put(alias, tensor);
                continue;
            }
            int type = idx.elemType(tensor);
            if (type == 0) {
                throw MoescopeException.badInput("cannot tell the element type of tensor '" + tensor
                        + "'; add it to the graph's value_info");
            }
            String name = alias;
            if (idx.exists(alias) || outputs.contains(alias)) {
                name = tensor; // the alias is taken: expose the tensor under its own name
                if (outputs.contains(tensor)) {
                    result.put(alias, tensor);
                    continue;
                }
            } else {
                g.addNode(NodeProto.newBuilder().setOpType("Identity").setName("moescope/expose/" + alias)
                        .addInput(tensor).addOutput(alias));
            }
            g.addOutput(valueInfo(name, type));
            outputs.add(name);
            result.put(alias, name);
        }
        return new Exposed(model.toBuilder().setGraph(g).build(), result);
    }

    /**
     * Sets k of every {@code TopK} (its K input becomes a new int64 initializer; the {@code k} attribute before
     * opset 10) and every fused {@code MoE}/{@code QMoE} op ({@code k} attribute). Returns the number of nodes
     * changed in {@code changed[0]} if given. A graph that bakes the old k into a shape elsewhere (a constant
     * {@code Reshape} to [..., k]) fails in ONNX Runtime; dense and per-expert-loop exports do not.
     */
    public static ModelProto overrideTopK(ModelProto model, int k, int[] changed) {
        if (k < 1) {
            throw MoescopeException.usage("top-k override must be positive, got " + k);
        }
        GraphProto.Builder g = model.getGraph().toBuilder();
        int count = 0;
        for (int i = 0; i < g.getNodeCount(); i++) {
            NodeProto n = g.getNode(i);
            NodeProto.Builder nb = null;
            if (n.getOpType().equals("TopK")) {
                nb = n.toBuilder();
                if (n.getInputCount() > 1) {
                    String kName = "moescope/topk_k/" + i;
                    g.addInitializer(TensorProto.newBuilder().setName(kName)
                            .setDataType(TensorProto.DataType.INT64_VALUE).addDims(1).addInt64Data(k));
                    nb.setInput(1, kName);
                } else {
                    setIntAttr(nb, "k", k);
                }
            } else if (n.getOpType().equals("MoE") || n.getOpType().equals("QMoE")) {
                nb = n.toBuilder();
                setIntAttr(nb, "k", k);
            }
            if (nb != null) {
                g.setNode(i, nb);
                count++;
            }
        }
        if (count == 0) {
            throw MoescopeException.badInput("the model has no TopK or fused MoE node whose k could be overridden");
        }
        if (changed != null && changed.length > 0) {
            changed[0] = count;
        }
        pruneDeadNodes(g); // the old K constants
        return model.toBuilder().setGraph(g).build();
    }

    /**
     * Switches how the graph weights the experts each TopK chose. {@code renormalise = false} turns the division of
     * the TopK values by their sum (Mixtral, Qwen3-MoE) into an identity, so the chosen experts keep their raw
     * softmax weights; {@code true} inserts that division after the values of a graph that keeps raw weights
     * (OLMoE, DeepSeek-V1). TopKs whose values nothing reads (DeepSeek-V3 group selection) are left alone, as are
     * TopKs already in the requested form. Returns the number of TopKs changed in {@code changed[0]}; none is an
     * error (e.g. GPT-OSS's softmax over the selected logits has no raw variant).
     */
    public static ModelProto setRenormalisation(ModelProto model, boolean renormalise, int[] changed) {
        GraphIndex idx = new GraphIndex(model.getGraph());
        GraphProto.Builder g = model.getGraph().toBuilder();
        long opset = 0;
        for (var o : model.getOpsetImportList()) {
            if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
                opset = o.getVersion();
            }
        }
        int count = 0;
        int inserted = 0;
        for (int i = 0; i < model.getGraph().getNodeCount(); i++) {
            NodeProto topk = model.getGraph().getNode(i);
            if (!topk.getOpType().equals("TopK") || idx.consumers(topk.getOutput(0)).isEmpty()) {
                continue;
            }
            NodeProto div = renormDiv(idx, topk.getOutput(0));
            if (!renormalise && div != null) {
                int at = idx.order(div) + inserted;
                g.setNode(at, NodeProto.newBuilder().setOpType("Identity").setName(div.getName() + "/moescope_raw")
                        .addInput(div.getInput(0)).addOutput(div.getOutput(0)).build());
                count++;
            } else if (renormalise && div == null && feedsOnlyWeights(idx, topk.getOutput(0))) {
                String v = topk.getOutput(0);
                String sum = v + "/moescope_sum";
                String normed = v + "/moescope_renorm";
                NodeProto.Builder reduce = NodeProto.newBuilder().setOpType("ReduceSum").setName(sum).addInput(v)
                        .addOutput(sum).addAttribute(AttributeProto.newBuilder().setName("keepdims")
                                .setType(AttributeProto.AttributeType.INT).setI(1));
                if (opset >= 13) {
                    String axes = v + "/moescope_axes";
                    g.addInitializer(TensorProto.newBuilder().setName(axes).setDataType(TensorProto.DataType.INT64_VALUE)
                            .addDims(1).addInt64Data(-1));
                    reduce.addInput(axes);
                } else {
                    reduce.addAttribute(AttributeProto.newBuilder().setName("axes")
                            .setType(AttributeProto.AttributeType.INTS).addInts(-1));
                }
                // every reader of the values now reads the renormalised values
                for (int n = 0; n < g.getNodeCount(); n++) {
                    NodeProto.Builder nb = g.getNode(n).toBuilder();
                    boolean touched = false;
                    for (int in = 0; in < nb.getInputCount(); in++) {
                        if (nb.getInput(in).equals(v)) {
                            nb.setInput(in, normed);
                            touched = true;
                        }
                    }
                    if (touched) {
                        g.setNode(n, nb);
                    }
                }
                int at = idx.order(topk) + inserted + 1;
                g.addNode(at, reduce.build());
                g.addNode(at + 1, NodeProto.newBuilder().setOpType("Div").setName(normed).addInput(v).addInput(sum)
                        .addOutput(normed).build());
                inserted += 2;
                count++;
            }
        }
        if (count == 0) {
            throw MoescopeException.badInput("no TopK whose weights could be made "
                    + (renormalise ? "renormalised" : "raw") + " (already so, or weighted another way)");
        }
        if (changed != null && changed.length > 0) {
            changed[0] = count;
        }
        pruneDeadNodes(g);
        return model.toBuilder().setGraph(g).build();
    }

    /** The Div that divides TopK values (through Casts) by a ReduceSum of them, or null. */
    private static NodeProto renormDiv(GraphIndex idx, String values) {
        List<String> frontier = List.of(values);
        for (int depth = 0; depth < 3; depth++) {
            List<String> next = new ArrayList<>();
            for (String t : frontier) {
                for (NodeProto c : idx.consumers(t)) {
                    if (c.getOpType().equals("Div") && c.getInput(0).equals(t)) {
                        NodeProto den = idx.producer(c.getInput(1));
                        if (den != null && den.getOpType().equals("ReduceSum")) {
                            return c;
                        }
                    } else if (c.getOpType().equals("Cast") || c.getOpType().equals("Identity")) {
                        next.add(c.getOutput(0));
                    }
                }
            }
            frontier = next;
        }
        return null;
    }

    /** Values used as weights, not fed through a Softmax (top-k-then-softmax gating has no raw variant). */
    private static boolean feedsOnlyWeights(GraphIndex idx, String values) {
        for (NodeProto c : idx.consumers(values)) {
            if (c.getOpType().equals("Softmax") || c.getOpType().equals("LogSoftmax")) {
                return false;
            }
        }
        return true;
    }

    /**
     * Turns {@code tensor} into a graph input of the same element type (for splicing a replacement, e.g. an SAE
     * reconstruction, back in): every consumer then reads the fed value. An {@code Identity} alias (a hook output)
     * is followed back to the real tensor, so that the downstream computation, not just the alias, sees the
     * replacement. Nodes left computing nothing the graph uses are removed.
     *
     * @return the model and, through {@code inputName[0]} if given, the input's name (the real tensor's)
     */
    public static ModelProto hookToInput(ModelProto model, String tensor, String[] inputName) {
        GraphIndex idx = new GraphIndex(model.getGraph());
        if (!idx.exists(tensor)) {
            throw MoescopeException.badInput("no tensor '" + tensor + "' in the model");
        }
        String real = tensor;
        NodeProto p = idx.producer(real);
        while (p != null && p.getOpType().equals("Identity") && !idx.isGraphInput(p.getInput(0))) {
            real = p.getInput(0);
            p = idx.producer(real);
        }
        if (idx.isGraphInput(real)) {
            throw MoescopeException.usage("'" + tensor + "' is already a graph input");
        }
        if (p == null) {
            throw MoescopeException.usage("'" + tensor + "' is a constant, not a computed tensor");
        }
        int type = idx.elemType(real);
        if (type == 0) {
            throw MoescopeException.badInput("cannot tell the element type of tensor '" + real + "'");
        }
        GraphProto.Builder g = model.getGraph().toBuilder();
        int pi = idx.order(p);
        NodeProto.Builder pb = g.getNode(pi).toBuilder();
        for (int o = 0; o < pb.getOutputCount(); o++) {
            if (pb.getOutput(o).equals(real)) {
                pb.setOutput(o, real + "/moescope_detached");
            }
        }
        g.setNode(pi, pb);
        g.addInput(valueInfo(real, type));
        // a hook that was an output of this very tensor would now echo the input: drop it from the outputs
        List<ValueInfoProto> outs = new ArrayList<>(g.getOutputList());
        final String realName = real;
        outs.removeIf(v -> v.getName().equals(realName));
        g.clearOutput().addAllOutput(outs);
        pruneDeadNodes(g);
        if (inputName != null && inputName.length > 0) {
            inputName[0] = real;
        }
        return model.toBuilder().setGraph(g).build();
    }

    /** Keeps only the graph outputs named in {@code keep} and removes the nodes only the others needed. */
    public static ModelProto keepOutputs(ModelProto model, Set<String> keep) {
        GraphProto.Builder g = model.getGraph().toBuilder();
        List<ValueInfoProto> outs = new ArrayList<>(g.getOutputList());
        outs.removeIf(v -> !keep.contains(v.getName()));
        if (outs.size() != keep.size()) {
            throw MoescopeException.badInput("the model lacks output(s) " + keep + " (has "
                    + model.getGraph().getOutputList().stream().map(ValueInfoProto::getName).toList() + ")");
        }
        g.clearOutput().addAllOutput(outs);
        pruneDeadNodes(g);
        return model.toBuilder().setGraph(g).build();
    }

    /**
     * Removes nodes none of whose outputs is consumed or a graph output, until none is left, then initializers no
     * node reads (only their references: external data files are never touched).
     */
    static void pruneDeadNodes(GraphProto.Builder g) {
        boolean removed = true;
        while (removed) {
            removed = false;
            Set<String> used = new HashSet<>();
            for (ValueInfoProto v : g.getOutputList()) {
                used.add(v.getName());
            }
            for (NodeProto n : g.getNodeList()) {
                used.addAll(n.getInputList());
            }
            for (int i = g.getNodeCount() - 1; i >= 0; i--) {
                NodeProto n = g.getNode(i);
                boolean live = false;
                for (String o : n.getOutputList()) {
                    live |= !o.isEmpty() && used.contains(o);
                }
                if (!live) {
                    g.removeNode(i);
                    removed = true;
                }
            }
        }
        Set<String> read = new HashSet<>();
        for (NodeProto n : g.getNodeList()) {
            read.addAll(n.getInputList());
        }
        for (ValueInfoProto v : g.getOutputList()) {
            read.add(v.getName());
        }
        for (int i = g.getInitializerCount() - 1; i >= 0; i--) {
            if (!read.contains(g.getInitializer(i).getName())) {
                g.removeInitializer(i);
            }
        }
    }

    private static void setIntAttr(NodeProto.Builder nb, String name, long value) {
        for (int a = 0; a < nb.getAttributeCount(); a++) {
            if (nb.getAttribute(a).getName().equals(name)) {
                nb.setAttribute(a, nb.getAttribute(a).toBuilder().setI(value));
                return;
            }
        }
        nb.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value));
    }

    static ValueInfoProto valueInfo(String name, int elemType) {
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType)))
                .build();
    }
}
