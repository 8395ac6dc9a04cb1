package dev.moescope.probe.graph;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.probe.gating.GatingConfig;
import dev.moescope.probe.gating.GatingScheme;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds what to probe in an ONNX graph, by structure rather than by names (exporters name tensors differently):
 * <ul>
 *   <li><b>router logits</b>: the output of a {@code MatMul}/{@code Gemm} whose weight is a constant [hidden, E]
 *   ([E, hidden] with {@code transB} or a {@code Transpose}), optionally through {@code Add} of a constant bias,
 *   {@code Reshape}, {@code Cast}, {@code Identity}, {@code (Un)Squeeze}, {@code Flatten}, feeding {@code Softmax},
 *   {@code Sigmoid} or {@code TopK}, whose scores reach a {@code TopK}/{@code ArgMax} within a few element-wise
 *   ops (which rules out the Sigmoid of a SiLU); or the {@code router_probs} input of a fused {@code com.microsoft.MoE}/
 *   {@code QMoE} op (which takes logits despite its name);</li>
 *   <li><b>MoE output and residual</b>: the first {@code Add} (or {@code Skip*LayerNormalization}) after the router
 *   that joins a tensor computed from the router logits ({@code moe_out}) with one the router input is computed from
 *   ({@code resid_mid}, u_t); its sum is {@code resid_post};</li>
 *   <li><b>named hook outputs</b>: graph outputs called {@code blocks.<L>.<kind>} are taken as they are and win over
 *   detection for the same layer and kind;</li>
 *   <li>every {@code TopK} and fused MoE op, for the top-k sweep.</li>
 * </ul>
 * Layers are numbered in graph order. Control-flow subgraphs ({@code If}/{@code Loop}) are not searched.
 */
public final class ProbeDetector {

    /** A router wider than this is an unembedding or a classifier head, not a router (largest known MoEs: 512). */
    static final int MAX_EXPERTS = 1024;
    private static final Set<String> SCORE_OPS = Set.of("Softmax", "LogSoftmax", "Sigmoid", "TopK");
    private static final Set<String> PASS_OPS = Set.of("Reshape", "Cast", "Identity", "Squeeze", "Unsqueeze",
            "Flatten", "Add", "Div", "Mul");
    private static final Set<String> FUSED_MOE = Set.of("MoE", "QMoE");
    /** Ops a selection path may pass between the scores and their TopK (bias, group reshapes, masks). */
    private static final Set<String> SELECTION_PATH = Set.of("Softmax", "LogSoftmax", "Sigmoid", "Reshape", "Cast",
            "Identity", "Squeeze", "Unsqueeze", "Flatten", "Add", "Sub", "Mul", "Div", "Neg", "Where", "Expand",
            "Transpose", "ReduceMax", "ReduceSum");
    /** Ops that select experts: a router's scores must reach one. */
    private static final Set<String> SELECTION_OPS = Set.of("TopK", "ArgMax");
    private static final Pattern HOOK = Pattern.compile("blocks\\.(\\d+)\\.([A-Za-z0-9_]+)");

    private ProbeDetector() {
    }

    /** A router found in the graph. */
    record Router(String logits, NodeProto node, String input, int experts, NodeProto scoreOp) {
    }

    /**
     * Detects the probe spec of {@code model} (read from {@code path}). A graph with no detectable router and no
     * {@code blocks.<L>.router_logits} output is bad input pointing to {@code --spec}.
     */
    public static ProbeSpec detect(ModelProto model, Path path) {
        return detect(model, path, "");
    }

    /**
     * As {@link #detect(ModelProto, Path)}, with {@code noRouterAdvice} appended to the no-router error: what the
     * calling command offers for a model without a router (e.g. {@code probe run}'s --no-routing).
     */
    public static ProbeSpec detect(ModelProto model, Path path, String noRouterAdvice) {
        GraphIndex idx = new GraphIndex(model.getGraph());
        List<Router> routers = findRouters(idx);
        Map<Integer, Map<String, String>> hookOutputs = hookOutputs(idx);
        boolean hookRouters = hookOutputs.values().stream().anyMatch(h -> h.containsKey(ProbeSpec.ROUTER_LOGITS));
        if (routers.isEmpty() && !hookRouters) {
            throw MoescopeException.badInput(path, "no router found (no MatMul/Gemm with a constant [hidden, E] "
                    + "weight feeding Softmax/Sigmoid/TopK, no com.microsoft.MoE op, no blocks.<L>.router_logits "
                    + "output); name the tensors in a probe spec JSON and pass it with --spec" + noRouterAdvice);
        }
        Map<Integer, Map<String, String>> hooks = new TreeMap<>();
        Map<Integer, String> routerNodes = new TreeMap<>();
        for (int l = 0; l < routers.size(); l++) {
            Router r = routers.get(l);
            Map<String, String> h = new LinkedHashMap<>();
            h.put(ProbeSpec.ROUTER_LOGITS, r.logits());
            findResidual(idx, r, h);
            hooks.put(l, h);
            routerNodes.put(l, r.node().getName());
        }
        hookOutputs.forEach((layer, named) -> hooks.computeIfAbsent(layer, k -> new LinkedHashMap<>()).putAll(named));
        List<ProbeSpec.Layer> layers = new ArrayList<>();
        hooks.forEach((layer, h) -> layers.add(new ProbeSpec.Layer(layer, h, routerNodes.get(layer))));

        List<ProbeSpec.TopKSite> sites = topKSites(idx, routers);
        int experts = routers.isEmpty() ? 0 : routers.get(0).experts();
        String gating = routers.isEmpty() ? null : guessGating(idx, routers.get(0), sites);
        String source = routers.isEmpty() ? "hook outputs"
                : hookOutputs.isEmpty() ? "graph structure" : "graph structure + hook outputs";
        return new ProbeSpec(path.toString(), source, experts, gating, layers, sites);
    }

    /**
     * The spec of a model recorded without routing (a dense twin): its {@code blocks.<L>.<hook>} outputs only, no
     * router search. A model without such outputs is bad input pointing to {@code --spec}.
     */
    public static ProbeSpec detectHooks(ModelProto model, Path path) {
        GraphIndex idx = new GraphIndex(model.getGraph());
        Map<Integer, Map<String, String>> hookOutputs = hookOutputs(idx);
        if (hookOutputs.isEmpty()) {
            throw MoescopeException.badInput(path, "no blocks.<L>.<hook> outputs to record; name the tensors in a "
                    + "probe spec JSON and pass it with --spec");
        }
        List<ProbeSpec.Layer> layers = new ArrayList<>();
        hookOutputs.forEach((layer, h) -> layers.add(new ProbeSpec.Layer(layer, h, null)));
        return new ProbeSpec(path.toString(), "hook outputs", 0, null, layers, List.of());
    }

    static List<Router> findRouters(GraphIndex idx) {
        List<Router> found = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (NodeProto n : idx.graph().getNodeList()) {
            String op = n.getOpType();
            if (FUSED_MOE.contains(op) && n.getInputCount() > 1) {
                String logits = n.getInput(1);
                if (seen.add(logits)) {
                    found.add(new Router(logits, n, n.getInput(0), fusedExperts(idx, n), n));
                }
                continue;
            }
            int experts = routerWidth(idx, n);
            if (experts < 2 || experts > MAX_EXPERTS) {
                continue;
            }
            String t = n.getOutput(0);
            for (int step = 0; step < 8; step++) {
                List<NodeProto> cons = idx.consumers(t);
                NodeProto score = null;
                for (NodeProto c : cons) {
                    if (SCORE_OPS.contains(c.getOpType()) && c.getInput(0).equals(t)
                            || FUSED_MOE.contains(c.getOpType()) && c.getInputCount() > 1 && c.getInput(1).equals(t)) {
                        score = c;
                        break;
                    }
                }
                if (score != null) {
                    // a fused op's router input is recorded when that op is reached
                    // a Sigmoid of a SiLU or a softmax of a classifier selects nothing: require a TopK/ArgMax downstream
                    if (!FUSED_MOE.contains(score.getOpType()) && reachesSelection(idx, t) && seen.add(t)) {
                        found.add(new Router(t, n, n.getInput(0), experts, score));
                    }
                    break;
                }
                if (cons.size() != 1 || !passesThrough(idx, cons.get(0), t)) {
                    break;
                }
                t = cons.get(0).getOutput(0);
            }
        }
        // fused ops are found at their own node; keep graph order
        found.sort((a, b) -> Integer.compare(idx.order(a.node()), idx.order(b.node())));
        return found;
    }

    /** Does {@code t} reach a TopK/ArgMax within a few element-wise/shape ops (no MatMul in between)? */
    static boolean reachesSelection(GraphIndex idx, String t) {
        List<String> frontier = List.of(t);
        Set<String> seen = new HashSet<>();
        for (int depth = 0; depth < 6 && !frontier.isEmpty(); depth++) {
            List<String> next = new ArrayList<>();
            for (String x : frontier) {
                for (NodeProto c : idx.consumers(x)) {
                    if (SELECTION_OPS.contains(c.getOpType())) {
                        return true;
                    }
                    if (SELECTION_PATH.contains(c.getOpType())) {
                        for (String o : c.getOutputList()) {
                            if (seen.add(o)) {
                                next.add(o);
                            }
                        }
                    }
                }
            }
            frontier = next;
        }
        return false;
    }

    /** E if {@code n} is a MatMul/Gemm with a constant 2-D weight, else 0. */
    private static int routerWidth(GraphIndex idx, NodeProto n) {
        if (n.getInputCount() < 2) {
            return 0;
        }
        if (n.getOpType().equals("MatMul")) {
            TensorProto w = idx.constant(n.getInput(1));
            if (w != null && w.getDimsCount() == 2) {
                return (int) w.getDims(1);
            }
            NodeProto tr = idx.producer(n.getInput(1));
            if (tr != null && tr.getOpType().equals("Transpose")) {
                TensorProto wt = idx.constant(tr.getInput(0));
                if (wt != null && wt.getDimsCount() == 2) {
                    return (int) wt.getDims(0);
                }
            }
        } else if (n.getOpType().equals("Gemm")) {
            TensorProto w = idx.constant(n.getInput(1));
            if (w != null && w.getDimsCount() == 2) {
                return (int) (GraphIndex.intAttr(n, "transB", 0) != 0 ? w.getDims(0) : w.getDims(1));
            }
        }
        return 0;
    }

    /** Reshape/Cast/... always pass; Add/Mul/Div only with a constant other operand (a bias, a temperature). */
    private static boolean passesThrough(GraphIndex idx, NodeProto c, String t) {
        if (!PASS_OPS.contains(c.getOpType()) || c.getOutputCount() < 1) {
            return false;
        }
        if (Set.of("Add", "Mul", "Div").contains(c.getOpType())) {
            String other = c.getInput(0).equals(t) ? c.getInput(1) : c.getInput(0);
            return idx.constant(other) != null;
        }
        return true;
    }

    private static int fusedExperts(GraphIndex idx, NodeProto moe) {
        TensorProto fc1 = moe.getInputCount() > 2 ? idx.constant(moe.getInput(2)) : null;
        return fc1 != null && fc1.getDimsCount() >= 1 ? (int) fc1.getDims(0) : 0;
    }

    /** Finds the post-MoE Add: one operand depends on the router, the other feeds the router input. */
    private static void findResidual(GraphIndex idx, Router r, Map<String, String> hooks) {
        Set<String> fromRouter = idx.descendants(r.logits());
        Set<String> intoRouter = idx.ancestors(r.input());
        int start = idx.order(r.node()) + 1;
        for (int i = start; i < idx.graph().getNodeCount(); i++) {
            NodeProto n = idx.graph().getNode(i);
            boolean add = n.getOpType().equals("Add") && n.getInputCount() == 2;
            boolean skipNorm = n.getOpType().startsWith("Skip") && n.getOpType().endsWith("LayerNormalization")
                    && n.getInputCount() >= 2;
            if (!add && !skipNorm) {
                continue;
            }
            for (int side = 0; side < 2; side++) {
                String a = n.getInput(side);
                String b = n.getInput(1 - side);
                if (fromRouter.contains(a) && !fromRouter.contains(b) && intoRouter.contains(b)) {
                    hooks.put(ProbeSpec.RESID_MID, b);
                    hooks.put(ProbeSpec.MOE_OUT, a);
                    if (add) {
                        hooks.put(ProbeSpec.RESID_POST, n.getOutput(0));
                    } else if (n.getOutputCount() > 3 && !n.getOutput(3).isEmpty()) {
                        hooks.put(ProbeSpec.RESID_POST, n.getOutput(3)); // input_skip_bias_sum
                    }
                    return;
                }
            }
        }
    }

    /**
     * Rows of the token embedding: the constant table a {@code Gather} indexes with the {@code input_ids} input;
     * 0 if the graph does not show one (a tokenizer id must stay below it).
     */
    public static int embeddingRows(ModelProto model) {
        GraphIndex idx = new GraphIndex(model.getGraph());
        for (NodeProto n : model.getGraph().getNodeList()) {
            if (n.getOpType().equals("Gather") && n.getInputCount() == 2 && idx.isGraphInput(n.getInput(1))
                    && n.getInput(1).equals("input_ids")) {
                TensorProto table = idx.constant(n.getInput(0));
                if (table != null && table.getDimsCount() == 2) {
                    return (int) table.getDims(0);
                }
            }
        }
        return 0;
    }

    /** Graph outputs named {@code blocks.<L>.<kind>}. */
    private static Map<Integer, Map<String, String>> hookOutputs(GraphIndex idx) {
        Map<Integer, Map<String, String>> m = new TreeMap<>();
        for (String out : idx.graphOutputs()) {
            Matcher mt = HOOK.matcher(out);
            if (mt.matches()) {
                m.computeIfAbsent(Integer.parseInt(mt.group(1)), k -> new LinkedHashMap<>()).put(mt.group(2), out);
            }
        }
        return m;
    }

    private static List<ProbeSpec.TopKSite> topKSites(GraphIndex idx, List<Router> routers) {
        Map<String, Integer> layerOfNode = new LinkedHashMap<>();
        for (int l = 0; l < routers.size(); l++) {
            Router r = routers.get(l);
            if (FUSED_MOE.contains(r.scoreOp().getOpType())) {
                layerOfNode.put(r.scoreOp().getName(), l);
            }
            for (NodeProto t : nearTopKs(idx, r.logits())) {
                layerOfNode.putIfAbsent(t.getName(), l);
            }
        }
        List<ProbeSpec.TopKSite> sites = new ArrayList<>();
        for (NodeProto n : idx.graph().getNodeList()) {
            if (n.getOpType().equals("TopK")) {
                sites.add(new ProbeSpec.TopKSite(n.getName(), "TopK", topKValue(idx, n), layerOfNode.get(n.getName())));
            } else if (FUSED_MOE.contains(n.getOpType())) {
                sites.add(new ProbeSpec.TopKSite(n.getName(), n.getDomain() + "." + n.getOpType(),
                        GraphIndex.intAttr(n, "k", 1), layerOfNode.get(n.getName())));
            }
        }
        return sites;
    }

    /** TopK nodes within a few element-wise hops of the router logits (softmax/sigmoid, bias add, casts, groups). */
    static List<NodeProto> nearTopKs(GraphIndex idx, String logits) {
        List<NodeProto> out = new ArrayList<>();
        List<String> frontier = List.of(logits);
        Set<String> seen = new HashSet<>();
        for (int depth = 0; depth < 6 && !frontier.isEmpty(); depth++) {
            List<String> next = new ArrayList<>();
            for (String t : frontier) {
                for (NodeProto c : idx.consumers(t)) {
                    if (!seen.add(c.getName() + "#" + idx.order(c))) {
                        continue;
                    }
                    if (c.getOpType().equals("TopK")) {
                        out.add(c);
                    } else if (SELECTION_PATH.contains(c.getOpType())) {
                        next.addAll(c.getOutputList());
                    }
                }
            }
            frontier = next;
        }
        return out;
    }

    /** Ops that change only the shape of a tensor, so a single-element constant keeps its value through them. */
    private static final Set<String> SHAPE_ONLY = Set.of("Reshape", "Unsqueeze", "Squeeze", "Identity", "Flatten");

    /**
     * The K of a TopK: its constant K input (opset ≥ 10) or its {@code k} attribute; 0 if computed at run time. The
     * TorchScript exporter often feeds K through a Reshape of a Constant, so shape-only ops are looked through.
     */
    static long topKValue(GraphIndex idx, NodeProto n) {
        if (n.getInputCount() > 1) {
            String tensor = n.getInput(1);
            TensorProto k = idx.constant(tensor);
            for (int depth = 0; k == null && depth < 4; depth++) {
                NodeProto p = idx.producer(tensor);
                if (p == null || !SHAPE_ONLY.contains(p.getOpType()) || p.getInputCount() == 0) {
                    return 0;
                }
                tensor = p.getInput(0);
                k = idx.constant(tensor);
            }
            if (k == null) {
                return 0;
            }
            boolean int32 = k.getDataType() == TensorProto.DataType.INT32.getNumber();
            if (k.getInt64DataCount() > 0) {
                return k.getInt64Data(0);
            }
            if (k.getInt32DataCount() > 0) {
                return k.getInt32Data(0);
            }
            ByteBuffer raw = ByteBuffer.wrap(k.getRawData().toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
            if (int32 && raw.remaining() >= 4) {
                return raw.getInt();
            }
            return raw.remaining() >= 8 ? raw.getLong() : 0;
        }
        return GraphIndex.intAttr(n, "k", 0);
    }

    /** The gating the graph's own ops imply, for the first router; null if unclear. */
    private static String guessGating(GraphIndex idx, Router r, List<ProbeSpec.TopKSite> sites) {
        int e = r.experts();
        if (e <= 0) {
            return null;
        }
        NodeProto score = r.scoreOp();
        if (FUSED_MOE.contains(score.getOpType())) {
            int k = (int) GraphIndex.intAttr(score, "k", 1);
            boolean norm = GraphIndex.intAttr(score, "normalize_routing_weights", 0) != 0;
            return k <= e ? new GatingConfig(GatingScheme.ORT_MOE, e, k, norm, 1, 1, 1, null).describe() : null;
        }
        List<NodeProto> topks = nearTopKs(idx, r.logits());
        if (topks.isEmpty()) {
            return null;
        }
        NodeProto topk = topks.get(0);
        int k = (int) topKValue(idx, topk);
        if (k <= 0 || k > e) {
            return null;
        }
        GatingScheme scheme = switch (score.getOpType()) {
            case "Sigmoid" -> GatingScheme.SIGMOID_GROUPED;
            case "TopK" -> GatingScheme.TOPK_SOFTMAX;
            default -> feedsDivision(idx, topk.getOutput(0)) ? GatingScheme.SOFTMAX_TOPK_RENORM : GatingScheme.SOFTMAX_TOPK;
        };
        return GatingConfig.of(scheme, e, k).describe();
    }

    /** Do the TopK values reach a Div (through Casts and a ReduceSum), i.e. are the weights renormalised? */
    private static boolean feedsDivision(GraphIndex idx, String values) {
        List<String> frontier = List.of(values);
        for (int depth = 0; depth < 3 && !frontier.isEmpty(); depth++) {
            List<String> next = new ArrayList<>();
            for (String t : frontier) {
                for (NodeProto c : idx.consumers(t)) {
                    switch (c.getOpType()) {
                        case "Div" -> {
                            return true;
                        }
                        case "Cast", "Identity" -> next.addAll(c.getOutputList());
                        default -> {
                        }
                    }
                }
            }
            frontier = next;
        }
        return false;
    }
}
