package dev.moescope.probe.expert;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.Require;
import dev.moescope.probe.corpus.Window;
import dev.moescope.probe.gating.Gate;
import dev.moescope.probe.gating.Routing;
import dev.moescope.probe.graph.GraphIndex;
import dev.moescope.probe.graph.GraphSurgery;
import dev.moescope.probe.graph.ProbeSpec;
import dev.moescope.probe.lens.LogitLens;
import dev.moescope.probe.lens.MoeLens;
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
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * The expert probe: recomputes each token's chosen experts in Java from the model's initializers (named by the
 * export sidecar) and measures how well the top-weighted expert alone approximates the MoE layer
 * ({@link SingleExpert}), by cosine similarity and through the model's own logit lens ({@link LogitLens}).
 *
 * <p>Per batch it runs one ONNX session that exposes, per MoE layer, the block input x (the router's input, found
 * by graph surgery from the router node), the router logits, {@code moe_out} and {@code resid_post}. Routing is
 * re-derived in Java with the model's gating; Σ_{i∈top-k} w_i·E_i(x) recomputed here is checked against the
 * captured {@code moe_out} for every token (it must agree to float rounding, which validates weights, layout,
 * activation and gating at once). Memory is bounded by one batch plus the expert cache.
 */
public final class ExpertProbe implements AutoCloseable {

    /** Hook kind of the MoE block's input (the router's input); a {@code --spec} file may name it explicitly. */
    public static final String MOE_IN = "moe_in";
    /** Domain label of the all-domains rows. */
    public static final String ALL = "all";
    /** Scope label: every scored token. */
    public static final String ALL_TOKENS = "all_tokens";
    /** Scope label: only each document's last token (the view MoE Lens's notebook reports). */
    public static final String LAST_TOKEN = "last_token";

    /**
     * Settings.
     *
     * @param threads     threads for the Java expert recomputation (0 = one per core)
     * @param cacheBytes  bytes of fp32 expert weights kept between batches
     */
    public record Config(int threads, long cacheBytes) {
        public Config {
            Require.nonNegative("threads", threads);
            Require.positive("expert cache bytes", cacheBytes);
        }
    }

    /** One probed MoE layer: spec layer, sidecar layer and the graph outputs it is read from. */
    private record Site(int layer, int sidecarLayer, String moeIn, String routerLogits, String moeOut,
                        String residPost) {
    }

    private final List<Site> sites;
    private final ExpertSidecar sidecar;
    private final Gate gate;
    private final OrtRunner runner;
    private final LogitLens lens;
    private final Initializers initializers;
    private final ExpertWeights weights;
    private final ForkJoinPool pool;
    private final List<SingleExpert.Variant> variants;
    private final List<LensTarget> lensTargets = new ArrayList<>();

    // accumulators
    private final Map<String, double[]> cosine = new TreeMap<>();        // variant|layer|domain|scope -> {sum, n}
    private final Map<String, long[]> lensAgree = new TreeMap<>();  // variant|rank|layer|domain -> {layer lens, model, n}
    private final double[] recomputeMaxDiff;
    private final double[] moeOutMaxAbs;
    private final double[][] topWeights;                                  // layer -> {sum w1, sum p1, n}
    private final long[] tokensPerLayer;
    private double lastLayerLensMaxDiff;
    private long tokens;

    private ExpertProbe(List<Site> sites, ExpertSidecar sidecar, OrtRunner runner, LogitLens lens,
                        Initializers initializers, ExpertWeights weights, int threads) {
        this.sites = List.copyOf(sites);
        this.sidecar = sidecar;
        this.gate = new Gate(sidecar.gating());
        this.runner = runner;
        this.lens = lens;
        this.initializers = initializers;
        this.weights = weights;
        this.pool = new ForkJoinPool(threads > 0 ? threads : Runtime.getRuntime().availableProcessors());
        boolean hasRaw = sidecar.gating().scheme() != dev.moescope.probe.gating.GatingScheme.TOPK_SOFTMAX;
        List<SingleExpert.Variant> vs = new ArrayList<>();
        for (SingleExpert.Variant v : SingleExpert.Variant.values()) {
            if (v != SingleExpert.Variant.RAW || hasRaw) {
                vs.add(v);
                if (v.corrected()) {
                    lensTargets.add(new LensTarget(v, 1));
                }
            }
        }
        for (int rank = 2; rank <= sidecar.gating().topK(); rank++) {
            lensTargets.add(new LensTarget(SingleExpert.Variant.MIXTURE_WEIGHT, rank));
        }
        this.variants = List.copyOf(vs);
        int n = sites.size();
        recomputeMaxDiff = new double[n];
        moeOutMaxAbs = new double[n];
        topWeights = new double[n][3];
        tokensPerLayer = new long[n];
    }

    /**
     * Builds the exposed model and the lens of {@code model} ({@code cfg}'s model) and opens their sessions from
     * memory.
     *
     * @param sidecarFile the export sidecar naming the expert weights
     */
    public static ExpertProbe open(Path model, ModelProto proto, ProbeSpec spec, Path sidecarFile, OrtRunner.Config cfg,
                                   Config config) {
        ExpertSidecar sidecar = ExpertSidecar.read(sidecarFile);
        GraphIndex idx = new GraphIndex(proto.getGraph());
        List<Site> sites = sites(model, idx, spec, sidecar);
        Map<String, String> hooks = new LinkedHashMap<>();
        for (Site s : sites) {
            hooks.put(ProbeSpec.hookName(s.layer(), MOE_IN), s.moeIn());
            hooks.put(ProbeSpec.hookName(s.layer(), ProbeSpec.ROUTER_LOGITS), s.routerLogits());
            hooks.put(ProbeSpec.hookName(s.layer(), ProbeSpec.MOE_OUT), s.moeOut());
            hooks.put(ProbeSpec.hookName(s.layer(), ProbeSpec.RESID_POST), s.residPost());
        }
        GraphSurgery.Exposed exposed = GraphSurgery.expose(proto, hooks);
        List<Site> named = new ArrayList<>();
        for (Site s : sites) {
            Map<String, String> o = exposed.outputs();
            named.add(new Site(s.layer(), s.sidecarLayer(), o.get(ProbeSpec.hookName(s.layer(), MOE_IN)),
                    o.get(ProbeSpec.hookName(s.layer(), ProbeSpec.ROUTER_LOGITS)),
                    o.get(ProbeSpec.hookName(s.layer(), ProbeSpec.MOE_OUT)),
                    o.get(ProbeSpec.hookName(s.layer(), ProbeSpec.RESID_POST))));
        }
        OrtRunner runner = null;
        LogitLens lens = null;
        Initializers init = new Initializers(proto, model);
        try {
            long[] router = init.dims(sidecar.layers().get(sites.get(0).sidecarLayer()).router());
            if (router.length != 2 || router[0] != sidecar.gating().numExperts()) {
                throw MoescopeException.badInput(sidecar.file(), "router weight of layer " + sites.get(0).sidecarLayer()
                        + " has shape " + java.util.Arrays.toString(router) + ", expected [" + sidecar.gating().numExperts()
                        + ", hidden] (torch Linear [out, in])");
            }
            int hidden = (int) router[1];
            runner = OrtRunner.openEdited(cfg, exposed.model());
            lens = LogitLens.open(model, proto, spec, cfg);
            return new ExpertProbe(named, sidecar, runner, lens, init,
                    new ExpertWeights(init, sidecar, hidden, config.cacheBytes()), config.threads());
        } catch (RuntimeException e) {
            if (runner != null) {
                runner.close();
            }
            if (lens != null) {
                lens.close();
            }
            init.close();
            throw e;
        }
    }

    /**
     * Matches the spec's MoE layers with the sidecar's by the router weight their router node reads (by layer number
     * where the spec has no router node), and finds each block's input: a {@code moe_in} hook of the spec, else the
     * router node's data input.
     */
    private static List<Site> sites(Path model, GraphIndex idx, ProbeSpec spec, ExpertSidecar sidecar) {
        Map<String, Integer> sidecarByRouter = new LinkedHashMap<>();
        Map<Integer, NodeProto> routerNodeBySidecar = new LinkedHashMap<>();
        for (ExpertSidecar.LayerWeights w : sidecar.layers().values()) {
            sidecarByRouter.put(w.router(), w.layer());
            NodeProto n = routerConsumer(idx, w.router());
            if (n != null) {
                routerNodeBySidecar.put(w.layer(), n);
            }
        }
        List<Site> out = new ArrayList<>();
        for (ProbeSpec.Layer l : spec.layers()) {
            NodeProto node = null;
            if (l.routerNode() != null) {
                for (NodeProto n : idx.graph().getNodeList()) {
                    if (n.getName().equals(l.routerNode())) {
                        node = n;
                        break;
                    }
                }
            }
            Integer sidecarLayer = node == null ? null : sidecarByRouter.get(routerWeight(idx, node));
            if (sidecarLayer == null && sidecar.layers().containsKey(l.layer())) {
                sidecarLayer = l.layer();
                node = node != null ? node : routerNodeBySidecar.get(sidecarLayer);
            }
            if (sidecarLayer == null) {
                throw MoescopeException.badInput(sidecar.file(), "no model.moe_weights entry for MoE layer "
                        + l.layer() + " of the graph (router node " + l.routerNode() + ")");
            }
            String moeIn = l.hooks().get(MOE_IN);
            if (moeIn == null && node != null) {
                moeIn = node.getInput(0);
            }
            if (moeIn == null) {
                throw MoescopeException.badInput(model, "layer " + l.layer() + ": cannot find the MoE block's input "
                        + "(no router node reads " + sidecar.layers().get(sidecarLayer).router() + "); name it as hook '"
                        + MOE_IN + "' in a --spec file");
            }
            out.add(new Site(l.layer(), sidecarLayer, moeIn, need(model, l, ProbeSpec.ROUTER_LOGITS),
                    need(model, l, ProbeSpec.MOE_OUT), need(model, l, ProbeSpec.RESID_POST)));
        }
        if (out.isEmpty()) {
            throw MoescopeException.badInput(model, "no MoE layer to probe");
        }
        return out;
    }

    private static String need(Path model, ProbeSpec.Layer l, String kind) {
        String t = l.hooks().get(kind);
        if (t == null) {
            throw MoescopeException.badInput(model, "layer " + l.layer() + " has no " + kind + " hook; name it in a "
                    + "--spec file");
        }
        return t;
    }

    /** The MatMul/Gemm that multiplies by {@code weight} (directly or through a Transpose), or null. */
    private static NodeProto routerConsumer(GraphIndex idx, String weight) {
        for (NodeProto c : idx.consumers(weight)) {
            if (c.getOpType().equals("MatMul") || c.getOpType().equals("Gemm")) {
                return c;
            }
            if (c.getOpType().equals("Transpose")) {
                for (NodeProto m : idx.consumers(c.getOutput(0))) {
                    if (m.getOpType().equals("MatMul") || m.getOpType().equals("Gemm")) {
                        return m;
                    }
                }
            }
        }
        return null;
    }

    /** The initializer a router node multiplies by (looking through a Transpose), or null. */
    private static String routerWeight(GraphIndex idx, NodeProto node) {
        if (node.getInputCount() < 2) {
            return null;
        }
        String w = node.getInput(1);
        NodeProto p = idx.producer(w);
        if (p != null && p.getOpType().equals("Transpose")) {
            w = p.getInput(0);
        }
        return idx.constant(w) != null ? w : null;
    }

    /** Where the sessions run. */
    public String deviceUsed() {
        return runner.deviceUsed();
    }

    public String deviceNote() {
        return runner.deviceNote();
    }

    public ExpertSidecar sidecar() {
        return sidecar;
    }

    /** A vector decoded by the lens: a corrected H¹ variant (rank 1) or the expert of another rank with its weight. */
    private record LensTarget(SingleExpert.Variant variant, int rank) {
        float[] vector(SingleExpert.Token t) {
            return rank == 1 ? SingleExpert.h1(variant, t) : SingleExpert.ranked(t, rank - 1);
        }
    }

    /** A scored token of the batch: its row in the [batch × seq] layout, domain, and whether it ends its document. */
    private record Row(int row, String domain, boolean last) {
    }

    /** Runs one batch and accumulates every layer's measurements. */
    public void accept(List<Window> windows) {
        List<long[]> seqs = new ArrayList<>();
        List<Row> rows = new ArrayList<>();
        int seqLen = 0;
        for (Window w : windows) {
            seqs.add(w.ids());
            seqLen = Math.max(seqLen, w.ids().length);
        }
        for (int b = 0; b < windows.size(); b++) {
            Window w = windows.get(b);
            for (int s = w.firstScored(); s < w.ids().length; s++) {
                rows.add(new Row(b * seqLen + s, w.domain(), w.next()[s] < 0));
            }
        }
        TokenBatch batch = TokenBatch.pad(seqs, 0);
        Set<String> wanted = new LinkedHashSet<>();
        wanted.add(LogitLens.LOGITS);
        for (Site s : sites) {
            wanted.addAll(List.of(s.moeIn(), s.routerLogits(), s.moeOut(), s.residPost()));
        }
        Map<String, HostTensor> out = runner.run(batch, wanted);
        HostTensor logits = out.get(LogitLens.LOGITS);
        int vocab = logits.width();
        int[] modelTop = new int[rows.size()];
        for (int r = 0; r < rows.size(); r++) {
            modelTop[r] = MoeLens.argmax(logits.floats(), rows.get(r).row() * vocab, vocab);
        }
        for (int li = 0; li < sites.size(); li++) {
            layer(li, batch, rows, out, modelTop, logits, li == sites.size() - 1);
        }
        tokens += rows.size();
    }

    private void layer(int li, TokenBatch batch, List<Row> rows, Map<String, HostTensor> out, int[] modelTop,
                       HostTensor logits, boolean lastLayer) {
        Site site = sites.get(li);
        HostTensor x = out.get(site.moeIn());
        HostTensor rl = out.get(site.routerLogits());
        HostTensor mo = out.get(site.moeOut());
        HostTensor rp = out.get(site.residPost());
        int h = rp.width();
        long cells = (long) batch.batch() * batch.seqLen();
        for (HostTensor t : List.of(x, mo, rp)) {
            if (t.width() != h || t.size() != cells * h) {
                throw MoescopeException.badInput("layer " + site.layer() + ": hook " + t + " does not hold one "
                        + h + "-wide row per token of the " + batch.batch() + " x " + batch.seqLen() + " batch");
            }
        }
        int e = sidecar.gating().numExperts();
        if (rl.width() != e || rl.size() != cells * e) {
            throw MoescopeException.badInput("layer " + site.layer() + ": router logits " + rl + " are not " + e
                    + " wide per token");
        }
        // routing, and the tokens each expert serves
        int n = rows.size();
        Routing[] routing = new Routing[n];
        Map<Integer, List<int[]>> byExpert = new TreeMap<>();
        for (int r = 0; r < n; r++) {
            routing[r] = gate.route(rl.floats(), rows.get(r).row() * e, site.sidecarLayer());
            for (int j = 0; j < routing[r].k(); j++) {
                byExpert.computeIfAbsent(routing[r].experts()[j], z -> new ArrayList<>()).add(new int[]{r, j});
            }
        }
        int k = sidecar.gating().topK();
        float[] expertOut = new float[n * k * h];
        for (Map.Entry<Integer, List<int[]>> en : byExpert.entrySet()) {
            ExpertWeights.Expert ex = weights.expert(site.sidecarLayer(), en.getKey());
            List<int[]> jobs = en.getValue();
            parallel(jobs.size(), (from, to) -> {
                float[] scratch = new float[ex.inner()];
                for (int i = from; i < to; i++) {
                    int[] job = jobs.get(i);
                    ex.apply(x.floats(), rows.get(job[0]).row() * h, expertOut, (job[0] * k + job[1]) * h, scratch);
                }
            });
        }
        // per token: the recomputation check, the variants' cosines, and the H¹ vectors for the lens
        Map<LensTarget, float[]> lensInput = new LinkedHashMap<>();
        for (LensTarget lt : lensTargets) {
            lensInput.put(lt, rp.floats().clone());
        }
        double renormTop = SingleExpert.renormalisedTopWeight(sidecar.gating());
        // the first scored token of each window routed to each expert (row 0 of the notebook's expert batch)
        int[] first = new int[batch.batch() * e];
        java.util.Arrays.fill(first, -1);
        for (int r = 0; r < n; r++) {
            int b = rows.get(r).row() / batch.seqLen();
            for (int j = 0; j < k; j++) {
                int slot = b * e + routing[r].experts()[j];
                if (first[slot] < 0) {
                    first[slot] = r * k + j;
                }
            }
        }
        for (int r = 0; r < n; r++) {
            Row row = rows.get(r);
            int off = row.row() * h;
            float[] xv = new float[h];
            float[] u = new float[h];
            float[] hk = new float[h];
            float[] routed = new float[h];
            float[][] ev = new float[k][h];
            float[][] row0 = new float[k][h];
            System.arraycopy(x.floats(), off, xv, 0, h);
            System.arraycopy(rp.floats(), off, hk, 0, h);
            int window = row.row() / batch.seqLen();
            for (int j = 0; j < k; j++) {
                System.arraycopy(expertOut, (r * k + j) * h, ev[j], 0, h);
                System.arraycopy(expertOut, first[window * e + routing[r].experts()[j]] * h, row0[j], 0, h);
            }
            float[] w = routing[r].weights();
            double maxAbs = 0;
            double diff = 0;
            for (int i = 0; i < h; i++) {
                double s = 0;
                for (int j = 0; j < k; j++) {
                    s += w[j] * ev[j][i];
                }
                routed[i] = (float) s;
                u[i] = rp.floats()[off + i] - mo.floats()[off + i];
                maxAbs = Math.max(maxAbs, Math.abs(mo.floats()[off + i]));
                diff = Math.max(diff, Math.abs(s - mo.floats()[off + i]));
            }
            float[] shared = null;
            if (sidecar.sharedExperts() > 0) {
                shared = new float[h]; // not named by the sidecar: what the block adds beyond the routed sum
                for (int i = 0; i < h; i++) {
                    shared[i] = mo.floats()[off + i] - routed[i];
                }
            } else {
                recomputeMaxDiff[li] = Math.max(recomputeMaxDiff[li], diff);
            }
            moeOutMaxAbs[li] = Math.max(moeOutMaxAbs[li], maxAbs);
            double rawTop = SingleExpert.rawTopWeight(sidecar.gating(), rl.floats(), row.row() * e, routing[r].top1());
            SingleExpert.Token t = new SingleExpert.Token(xv, u, hk, ev, w, rawTop, renormTop, shared, row0);
            topWeights[li][0] += w[0];
            topWeights[li][1] += rawTop;
            topWeights[li][2]++;
            tokensPerLayer[li]++;
            for (SingleExpert.Variant v : variants) {
                double c = SingleExpert.cosine(v, t);
                add(cosine, key(v, site.layer(), row.domain(), ALL_TOKENS), c);
                add(cosine, key(v, site.layer(), ALL, ALL_TOKENS), c);
                if (row.last()) {
                    add(cosine, key(v, site.layer(), row.domain(), LAST_TOKEN), c);
                    add(cosine, key(v, site.layer(), ALL, LAST_TOKEN), c);
                }
            }
            for (LensTarget lt : lensTargets) {
                System.arraycopy(lt.vector(t), 0, lensInput.get(lt), off, h);
            }
        }
        // the logit lens of the layer output and of each H¹
        HostTensor layerLens = lens.logits(batch, rp, rp.floats());
        int vocab = layerLens.width();
        int[] layerTop = new int[n];
        for (int r = 0; r < n; r++) {
            int off = rows.get(r).row() * vocab;
            layerTop[r] = MoeLens.argmax(layerLens.floats(), off, vocab);
            if (lastLayer) {
                for (int j = 0; j < vocab; j++) {
                    lastLayerLensMaxDiff = Math.max(lastLayerLensMaxDiff,
                            Math.abs(layerLens.floats()[off + j] - logits.floats()[off + j]));
                }
            }
        }
        for (LensTarget lt : lensTargets) {
            HostTensor l1 = lens.logits(batch, rp, lensInput.get(lt));
            for (int r = 0; r < n; r++) {
                int top = MoeLens.argmax(l1.floats(), rows.get(r).row() * vocab, vocab);
                for (String d : List.of(rows.get(r).domain(), ALL)) {
                    long[] a = lensAgree.computeIfAbsent(lt.variant().id() + "|" + lt.rank() + "|" + pad(site.layer())
                            + "|" + d, z -> new long[3]);
                    a[0] += top == layerTop[r] ? 1 : 0;
                    a[1] += top == modelTop[r] ? 1 : 0;
                    a[2]++;
                }
            }
        }
    }

    private interface Range {
        void run(int from, int to);
    }

    /** Runs {@code body} over [0, n) in chunks on the probe's pool. */
    private void parallel(int n, Range body) {
        int chunk = 32;
        int chunks = (n + chunk - 1) / chunk;
        if (chunks <= 1) {
            body.run(0, n);
            return;
        }
        try {
            pool.submit(() -> IntStream.range(0, chunks).parallel()
                    .forEach(c -> body.run(c * chunk, Math.min(n, (c + 1) * chunk)))).get();
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw MoescopeException.failure("interrupted while recomputing experts", ex);
        } catch (ExecutionException ex) {
            throw ex.getCause() instanceof RuntimeException re ? re
                    : MoescopeException.failure("expert recomputation failed: " + ex.getCause(), ex.getCause());
        }
    }

    private static String pad(int layer) {
        return String.format("%06d", layer);
    }

    private static String key(SingleExpert.Variant v, int layer, String domain, String scope) {
        return v.id() + "|" + pad(layer) + "|" + domain + "|" + scope;
    }

    private static void add(Map<String, double[]> m, String key, double v) {
        if (Double.isNaN(v)) {
            return;
        }
        double[] a = m.computeIfAbsent(key, z -> new double[2]);
        a[0] += v;
        a[1]++;
    }

    // ---- report -------------------------------------------------------------------------------------------------

    /** Mean cosine of one variant at one layer over one domain's tokens ({@link #ALL} for every domain). */
    public record Cosine(String variant, int layer, String domain, String scope, long tokens, double meanCosine) {
    }

    /**
     * Logit-lens top-1 agreement of one H¹ variant at one layer ({@code expertRank} 1), or of the expert of another
     * rank with its mixture weight (u + w_r·E_r(x) + S, variant {@code mixture_weight}, {@code expertRank} r).
     *
     * @param withLayerOutput share of tokens whose lens top-1 of H¹ equals the lens top-1 of the layer output H^k
     * @param withModel       share whose lens top-1 of H¹ equals the model's own next-token top-1
     */
    public record LensAgreement(String variant, int expertRank, int layer, String domain, long tokens,
                                double withLayerOutput,
                                double withModel) {
    }

    /**
     * Per layer: the recomputation check and the top expert's weights.
     *
     * @param recomputeMaxAbsDiff max over tokens and features of |Σ w_i E_i(x) − moe_out|; NaN with shared experts
     *                            (their output is derived from moe_out, so nothing independent is left to compare)
     * @param moeOutMaxAbs        max |moe_out| (the scale the difference compares with)
     * @param meanTopWeight       mean w₁, the top expert's weight in the model's mixture
     * @param meanTopRawScore     mean p₁, its raw router score (NaN without a raw variant)
     * @param expertReads         cumulative expert loads from the initializers (cache misses) after this run
     */
    public record Layer(int layer, int sidecarLayer, long tokens, double recomputeMaxAbsDiff, double moeOutMaxAbs,
                        double meanTopWeight, double meanTopRawScore, long expertReads) {
    }

    /** Everything the probe measured. */
    public record Report(String gating, String family, int sharedExperts, String modelTop1Variant,
                         Map<String, String> variantDefinitions, long tokens, double lastLayerLensMaxAbsDiff,
                         List<Layer> layers, List<Cosine> cosine, List<LensAgreement> lens) {
    }

    public Report report() {
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < sites.size(); i++) {
            double nTok = topWeights[i][2];
            layers.add(new Layer(sites.get(i).layer(), sites.get(i).sidecarLayer(), tokensPerLayer[i],
                    sidecar.sharedExperts() > 0 ? Double.NaN : recomputeMaxDiff[i], moeOutMaxAbs[i],
                    topWeights[i][0] / nTok, topWeights[i][1] / nTok, weights.reads()));
        }
        List<Cosine> cos = new ArrayList<>();
        cosine.forEach((key, a) -> {
            String[] p = key.split("\\|", -1);
            cos.add(new Cosine(p[0], Integer.parseInt(p[1]), p[2], p[3], (long) a[1], a[0] / a[1]));
        });
        List<LensAgreement> agree = new ArrayList<>();
        lensAgree.forEach((key, a) -> {
            String[] p = key.split("\\|", -1);
            agree.add(new LensAgreement(p[0], Integer.parseInt(p[1]), Integer.parseInt(p[2]), p[3], a[2],
                    (double) a[0] / a[2],
                    (double) a[1] / a[2]));
        });
        Map<String, String> defs = new LinkedHashMap<>();
        variants.forEach(v -> defs.put(v.id(), v.definition()));
        return new Report(sidecar.gating().describe(), sidecar.family(), sidecar.sharedExperts(),
                SingleExpert.modelTop1(sidecar.gating()).id(), defs, tokens, lastLayerLensMaxDiff, layers, cos, agree);
    }

    @Override
    public void close() {
        try {
            runner.close();
        } finally {
            try {
                lens.close();
            } finally {
                initializers.close();
                pool.shutdownNow();
            }
        }
    }
}
