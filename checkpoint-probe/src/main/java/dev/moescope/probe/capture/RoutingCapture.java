package dev.moescope.probe.capture;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.probe.corpus.Window;
import dev.moescope.probe.gating.Gate;
import dev.moescope.probe.gating.GatingConfig;
import dev.moescope.probe.gating.Routing;
import dev.moescope.probe.graph.GraphSurgery;
import dev.moescope.probe.graph.ProbeSpec;
import dev.moescope.probe.run.HostTensor;
import dev.moescope.probe.run.OrtRunner;
import dev.moescope.probe.run.TokenBatch;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs windows through a model edited to expose every layer's router logits (plus requested hook kinds and the
 * graph's own TopK indices), and turns the outputs into {@link CapturedBatch}es. Java re-derives ids and weights
 * with the configured gating; where the graph has a TopK for a layer, the number of tokens whose Java ids differ
 * from the graph's is counted ({@link #topKMismatches()}: near-ties under fp16 are the expected cause).
 */
public final class RoutingCapture implements AutoCloseable {

    /** The model's next-token logits output, if it has one under this name. */
    public static final String LOGITS = "logits";

    private final OrtRunner runner;
    /** Layers whose routing is captured (none for a model recorded without routing). */
    private final List<ProbeSpec.Layer> routed;
    private final GatingConfig gating;
    private final Gate gate;
    private final List<String> hookNames;
    private final Map<Integer, String> graphTopK = new LinkedHashMap<>();
    /** Hook name ({@code blocks.<L>.<kind>}) → the graph output it was exposed as. */
    private final Map<String, String> aliases = new LinkedHashMap<>();
    /** Whether the model has a logits output to predict next tokens from. */
    private final boolean hasLogits;
    /** Whether batches carry the model's argmax next-token prediction (the vocabulary analysis wants it). */
    private boolean predict;
    /** Request the logits output even without predictions (benchmarks: the same outputs as a bare loop). */
    private boolean requestLogits;
    private long topKMismatches;
    private long topKChecked;

    /**
     * Prepares {@code model}: exposes the router logits and hooks as outputs and opens the edited copy from memory.
     *
     * @param hookKinds extra hook kinds to capture at every layer besides router logits ({@code resid_post},
     *                  {@code moe_out}, ...); a layer lacking a kind is an error naming it
     */
    public static RoutingCapture open(Path model, ModelProto proto, ProbeSpec spec, GatingConfig gating,
                                      List<String> hookKinds, OrtRunner.Config runnerConfig) {
        List<String> names = new ArrayList<>();
        for (ProbeSpec.Layer l : spec.layers()) {
            for (String kind : hookKinds) {
                if (!l.hooks().containsKey(kind)) {
                    throw MoescopeException.badInput(model, "layer " + l.layer() + " has no '" + kind
                            + "' hook (hooks: " + l.hooks().keySet() + "); name it in a --spec file");
                }
                names.add(l.hookName(kind));
            }
        }
        return openNamed(model, proto, spec, gating, names, runnerConfig);
    }

    /**
     * Prepares {@code model} to capture the hooks {@code hookNames} ({@code blocks.<L>.<kind>}, each in the spec)
     * and, unless {@code gating} is null, every spec layer's routing. With a null gating the model is treated as
     * having no routing at all (a dense model recorded on the same tokens as an MoE): batches carry no layers.
     */
    public static RoutingCapture openNamed(Path model, ModelProto proto, ProbeSpec spec, GatingConfig gating,
                                           List<String> hookNames, OrtRunner.Config runnerConfig) {
        if (gating != null && gating.numExperts() != spec.numExperts() && spec.numExperts() > 0) {
            throw MoescopeException.usage("gating has e=" + gating.numExperts() + " but the model's routers have "
                    + spec.numExperts() + " experts");
        }
        Map<String, String> expose = new LinkedHashMap<>();
        List<ProbeSpec.Layer> routed = new ArrayList<>();
        if (gating != null) {
            for (ProbeSpec.Layer l : spec.layers()) {
                String router = l.hooks().get(ProbeSpec.ROUTER_LOGITS);
                if (router == null) {
                    throw MoescopeException.badInput(model, "layer " + l.layer() + " has no router_logits hook;"
                            + " name it in a --spec file, or record without routing");
                }
                expose.put(l.hookName(ProbeSpec.ROUTER_LOGITS), router);
                routed.add(l);
            }
        }
        Map<String, String> all = spec.allHooks();
        for (String name : hookNames) {
            String t = all.get(name);
            if (t == null) {
                throw MoescopeException.badInput(model, "no hook '" + name + "' (hooks: " + all.keySet()
                        + "); name it in a --spec file");
            }
            expose.put(name, t);
        }
        Map<Integer, String> topkOutputs = new LinkedHashMap<>();
        if (gating != null) {
            for (ProbeSpec.TopKSite s : spec.topK()) {
                if (s.layer() != null && s.op().equals("TopK") && !topkOutputs.containsKey(s.layer())) {
                    String indices = topKIndices(proto, s.node());
                    if (indices != null) {
                        String name = ProbeSpec.hookName(s.layer(), "graph_topk_ids");
                        expose.put(name, indices);
                        topkOutputs.put(s.layer(), name);
                    }
                }
            }
        }
        GraphSurgery.Exposed exposed = GraphSurgery.expose(proto, expose);
        OrtRunner runner = OrtRunner.openEdited(runnerConfig, exposed.model());
        Map<String, String> outputs = exposed.outputs();
        RoutingCapture c = new RoutingCapture(runner, routed, gating, hookNames,
                runner.outputNames().contains(LOGITS));
        topkOutputs.forEach((layer, name) -> c.graphTopK.put(layer, outputs.get(name)));
        c.aliases.putAll(outputs);
        return c;
    }

    private RoutingCapture(OrtRunner runner, List<ProbeSpec.Layer> routed, GatingConfig gating,
                           List<String> hookNames, boolean predict) {
        this.runner = runner;
        this.routed = List.copyOf(routed);
        this.gating = gating;
        this.gate = gating == null ? null : new Gate(gating);
        this.hookNames = List.copyOf(hookNames);
        this.hasLogits = predict;
        this.predict = predict;
    }

    private static String topKIndices(ModelProto proto, String nodeName) {
        for (NodeProto n : proto.getGraph().getNodeList()) {
            if (n.getName().equals(nodeName) && n.getOutputCount() > 1) {
                return n.getOutput(1);
            }
        }
        return null;
    }

    /** The gating used to re-derive top-k, or null when routing is not captured. */
    public GatingConfig gating() {
        return gating;
    }

    /**
     * Turns the next-token prediction on or off (on by default when the model has {@code logits}). Off, the
     * logits output is not requested nor scanned: a store does not record predictions, and the argmax over the
     * vocabulary of every token is a cost comparable to a small model's forward pass.
     */
    public RoutingCapture predictions(boolean on) {
        this.predict = on && hasLogits;
        return this;
    }

    /**
     * With {@code on}, the logits output is requested (and copied to the host) even when predictions are off, so
     * that a benchmark's capture runs the same outputs as a bare logits-only loop plus the captured ones.
     */
    public RoutingCapture requestLogits(boolean on) {
        this.requestLogits = on && hasLogits;
        return this;
    }

    /** Layers whose routing each batch carries, in order. */
    public List<Integer> routedLayers() {
        return routed.stream().map(ProbeSpec.Layer::layer).toList();
    }

    /** Hook names each batch carries. */
    public List<String> hookNames() {
        return hookNames;
    }

    public OrtRunner runner() {
        return runner;
    }

    /** Tokens whose Java top-k ids differed from the graph's own TopK, over all checked layers. */
    public long topKMismatches() {
        return topKMismatches;
    }

    /** (token, layer) pairs compared with the graph's TopK. */
    public long topKChecked() {
        return topKChecked;
    }

    /** Runs one batch of windows (right-padded) and returns its scored tokens' routing and hooks. */
    public CapturedBatch capture(List<Window> windows) {
        List<long[]> seqs = new ArrayList<>();
        for (Window w : windows) {
            seqs.add(w.ids());
        }
        TokenBatch batch = TokenBatch.pad(seqs, 0);
        Set<String> want = new LinkedHashSet<>();
        for (ProbeSpec.Layer l : routed) {
            want.add(aliases.get(l.hookName(ProbeSpec.ROUTER_LOGITS)));
        }
        for (String h : hookNames) {
            want.add(aliases.get(h));
        }
        want.addAll(graphTopK.values());
        if (predict || requestLogits) {
            want.add(LOGITS);
        }
        Map<String, HostTensor> out = runner.run(batch, want);

        // rows of the padded [batch × seqLen] grid that are real and scored
        List<CapturedBatch.Token> tokens = new ArrayList<>();
        List<Integer> rows = new ArrayList<>();
        HostTensor logits = predict ? out.get(LOGITS) : null;
        for (int b = 0; b < windows.size(); b++) {
            Window w = windows.get(b);
            for (int s = w.firstScored(); s < w.ids().length; s++) {
                int row = b * batch.seqLen() + s;
                rows.add(row);
                long predicted = logits == null ? -1 : argmax(logits, row, batch);
                tokens.add(new CapturedBatch.Token(w.doc(), w.domain(), w.start() + s, w.ids()[s], w.next()[s], predicted));
            }
        }
        int nl = routed.size();
        int e = gating == null ? 0 : gating.numExperts();
        int[] layerIds = new int[nl];
        int[][][] experts = new int[nl][rows.size()][];
        float[][][] weights = new float[nl][rows.size()][];
        float[][] routerLogits = new float[nl][rows.size() * e];
        Map<String, float[]> hooks = new LinkedHashMap<>();
        Map<String, Integer> widths = new LinkedHashMap<>();
        for (int li = 0; li < nl; li++) {
            ProbeSpec.Layer l = routed.get(li);
            layerIds[li] = l.layer();
            HostTensor lg = rowsOf(out.get(aliases.get(l.hookName(ProbeSpec.ROUTER_LOGITS))), batch, e);
            String topkName = graphTopK.get(l.layer());
            HostTensor graphIds = topkName == null ? null : out.get(topkName);
            for (int i = 0; i < rows.size(); i++) {
                int row = rows.get(i);
                Routing r = gate.route(lg.floats(), row * e, l.layer());
                experts[li][i] = r.experts();
                weights[li][i] = r.weights();
                System.arraycopy(lg.floats(), row * e, routerLogits[li], i * e, e);
                if (graphIds != null) {
                    checkAgainstGraph(r, graphIds, row);
                }
            }
        }
        for (String name : hookNames) {
            HostTensor h = out.get(aliases.get(name));
            int width = h.width();
            rowsOf(h, batch, width);
            float[] vals = new float[rows.size() * width];
            for (int i = 0; i < rows.size(); i++) {
                System.arraycopy(h.floats(), rows.get(i) * width, vals, i * width, width);
            }
            hooks.put(name, vals);
            widths.put(name, width);
        }
        return new CapturedBatch(tokens, layerIds, experts, weights, routerLogits, hooks, widths);
    }

    private void checkAgainstGraph(Routing r, HostTensor graphIds, int row) {
        int k = graphIds.width();
        if (k != r.k()) {
            return; // the graph's TopK selects a different k (e.g. group selection); not comparable
        }
        topKChecked++;
        for (int j = 0; j < k; j++) {
            if (graphIds.longs()[row * k + j] != r.experts()[j]) {
                topKMismatches++;
                return;
            }
        }
    }

    /** Checks that a [batch, seq, w] or [batch·seq, w] output has one row per padded token. */
    private HostTensor rowsOf(HostTensor t, TokenBatch batch, int width) {
        long rows = (long) batch.batch() * batch.seqLen();
        if (t.floats() == null || t.width() != width || t.size() != rows * width) {
            throw MoescopeException.badInput(runner.config().model(), "output " + t.name() + " has shape "
                    + java.util.Arrays.toString(t.shape()) + ", expected " + rows + " rows of " + width);
        }
        return t;
    }

    private static long argmax(HostTensor logits, int row, TokenBatch batch) {
        int v = logits.width();
        float[] f = logits.floats();
        int best = 0;
        for (int j = 1; j < v; j++) {
            if (f[row * v + j] > f[row * v + best]) {
                best = j;
            }
        }
        return best;
    }

    @Override
    public void close() {
        runner.close();
    }
}
