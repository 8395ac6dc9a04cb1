package dev.moescope.probe.lens;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.probe.corpus.Window;
import dev.moescope.probe.graph.GraphSurgery;
import dev.moescope.probe.graph.ProbeSpec;
import dev.moescope.probe.run.HostTensor;
import dev.moescope.probe.run.OrtRunner;
import dev.moescope.probe.run.TokenBatch;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Runs the top-k sweep and the logit lens over batches of windows. Opens one session per swept k, one for the
 * full-k model and one for the lens graph; every batch goes through all of them, so memory is bounded by a batch.
 *
 * <p>Single-expert variant: overriding k keeps the model's own weighting. For a renormalising model (Mixtral,
 * Qwen3-MoE) k = 1 gives the top expert weight 1 (the "renormalised" variant); for a raw one (OLMoE, DeepSeek-V1)
 * it keeps the raw softmax weight (the "raw" variant MoE Lens measured).
 */
public final class MoeLens implements AutoCloseable {

    /** The model's next-token logits output. */
    public static final String LOGITS = LogitLens.LOGITS;
    /** Variant label: the model's own weighting of its top-k. */
    public static final String MODEL = "model";
    /** Variant label: top-k keeps raw softmax weights. */
    public static final String RAW = "raw";
    /** Variant label: top-k weights renormalised to sum 1. */
    public static final String RENORMALISED = "renormalised";

    /** One swept configuration: k and how the chosen experts are weighted. */
    public record Setting(int k, String variant) {
    }

    private final ProbeSpec spec;
    private final int fullK;
    private final List<Integer> ks;
    private final Map<Setting, OrtRunner> sweep = new LinkedHashMap<>();
    private final Setting reference;
    private final OrtRunner full;
    private final LogitLens lens;
    private final List<String> residNames = new ArrayList<>();

    // accumulators
    private final Map<Setting, Map<String, double[]>> nll = new LinkedHashMap<>();     // -> domain -> {sum, n}
    private final Map<Setting, Map<Long, double[]>> docNll = new LinkedHashMap<>();     // -> doc -> {sum, n}
    private final Map<Long, String> docDomain = new HashMap<>();
    private final Map<Setting, double[][]> cosine = new LinkedHashMap<>();              // -> layer -> {sum, n}
    private final long[] lensAgree;
    private long lensTokens;
    private double lastLayerMaxDiff;

    private MoeLens(ProbeSpec spec, int fullK, List<Integer> ks, OrtRunner full, LogitLens lens) {
        this.spec = spec;
        this.fullK = fullK;
        this.ks = List.copyOf(ks);
        this.full = full;
        this.lens = lens;
        this.lensAgree = new long[spec.layers().size()];
        this.reference = new Setting(fullK, MODEL);
        for (ProbeSpec.Layer l : spec.layers()) {
            residNames.add(l.hookName(ProbeSpec.RESID_POST));
        }
    }

    /** The k the graph uses (the largest over its TopK/MoE sites); error if any site's k is computed at run time. */
    public static int graphK(ProbeSpec spec, Path model) {
        int k = 0;
        for (ProbeSpec.TopKSite s : spec.topK()) {
            if (s.k() <= 0) {
                throw MoescopeException.badInput(model, "TopK " + s.node() + " has a k computed at run time; "
                        + "the sweep needs constant k");
            }
            k = (int) Math.max(k, s.k());
        }
        if (k == 0) {
            throw MoescopeException.badInput(model, "no TopK or fused MoE node: nothing to sweep");
        }
        return k;
    }

    /**
     * Builds the edited models (exposed residuals, swept k) of {@code model} and opens their sessions from memory.
     *
     * @param ks                 the k values to sweep (each ≤ the graph's k); the graph's own k is the reference
     * @param modelRenormalises  whether the model renormalises its top-k weights (from its gating); null if unknown
     * @param otherVariant       also sweep every k with the other weighting (raw ↔ renormalised); needs
     *                           {@code modelRenormalises}
     */
    public static MoeLens open(Path model, ModelProto proto, ProbeSpec spec, List<Integer> ks, OrtRunner.Config cfg,
                               Boolean modelRenormalises, boolean otherVariant) {
        if (otherVariant && modelRenormalises == null) {
            throw MoescopeException.usage("the other single-expert variant needs the model's gating (give --gating)");
        }
        int fullK = graphK(spec, model);
        for (int k : ks) {
            if (k < 1 || k > fullK) {
                throw MoescopeException.usage("--k values must be in [1, " + fullK + "] (the model's k), got " + k);
            }
        }
        if (!proto.getGraph().getOutputList().stream().anyMatch(o -> o.getName().equals(LOGITS))) {
            throw MoescopeException.badInput(model, "the model has no '" + LOGITS + "' output");
        }
        Map<String, String> hooks = new LinkedHashMap<>();
        for (ProbeSpec.Layer l : spec.layers()) {
            String t = l.hooks().get(ProbeSpec.RESID_POST);
            if (t == null) {
                throw MoescopeException.badInput(model, "layer " + l.layer() + " has no resid_post hook; name it "
                        + "in a --spec file");
            }
            hooks.put(l.hookName(ProbeSpec.RESID_POST), t);
        }
        List<OrtRunner> opened = new ArrayList<>();
        LogitLens lens = null;
        try {
            OrtRunner full = open(expose(proto, hooks), cfg, opened);
            lens = LogitLens.open(model, proto, spec, cfg);
            MoeLens m = new MoeLens(spec, fullK, ks, full, lens);
            for (int k : ks) {
                if (k != fullK) {
                    ModelProto swept = GraphSurgery.overrideTopK(proto, k, null);
                    m.sweep.put(new Setting(k, MODEL),
                            open(expose(swept, hooks), cfg, opened));
                }
            }
            if (otherVariant) {
                String label = modelRenormalises ? RAW : RENORMALISED;
                ModelProto flipped = GraphSurgery.setRenormalisation(proto, !modelRenormalises, null);
                for (int k : ks) {
                    ModelProto swept = k == fullK ? flipped : GraphSurgery.overrideTopK(flipped, k, null);
                    m.sweep.put(new Setting(k, label), open(expose(swept, hooks), cfg, opened));
                }
            }
            return m;
        } catch (RuntimeException e) {
            opened.forEach(OrtRunner::close);
            if (lens != null) {
                lens.close();
            }
            throw e;
        }
    }

    private static ModelProto expose(ModelProto proto, Map<String, String> hooks) {
        return GraphSurgery.expose(proto, hooks).model();
    }

    private static OrtRunner open(ModelProto edited, OrtRunner.Config cfg, List<OrtRunner> opened) {
        OrtRunner r = OrtRunner.openEdited(cfg, edited);
        opened.add(r);
        return r;
    }

    public int fullK() {
        return fullK;
    }

    /** Where the sessions run ({@code cpu} or {@code cuda:N}). */
    public String deviceUsed() {
        return full.deviceUsed();
    }

    /** Non-empty when {@code --device auto} fell back to CPU. */
    public String deviceNote() {
        return full.deviceNote();
    }

    /** Runs one batch through every model and accumulates. */
    public void accept(List<Window> windows) {
        List<long[]> seqs = new ArrayList<>();
        for (Window w : windows) {
            seqs.add(w.ids());
            docDomain.put(w.doc(), w.domain());
        }
        TokenBatch batch = TokenBatch.pad(seqs, 0);
        Set<String> wanted = new java.util.LinkedHashSet<>(residNames);
        wanted.add(LOGITS);
        Map<String, HostTensor> ref = full.run(batch, wanted);
        HostTensor refLogits = ref.get(LOGITS);
        accumulateNll(reference, windows, batch, refLogits);
        for (Map.Entry<Setting, OrtRunner> en : sweep.entrySet()) {
            Map<String, HostTensor> out = en.getValue().run(batch, wanted);
            accumulateNll(en.getKey(), windows, batch, out.get(LOGITS));
            double[][] cos = cosine.computeIfAbsent(en.getKey(), k -> new double[residNames.size()][2]);
            for (int l = 0; l < residNames.size(); l++) {
                HostTensor a = out.get(residNames.get(l));
                HostTensor b = ref.get(residNames.get(l));
                int h = a.width();
                double[] acc = cos[l];
                forEachScored(windows, batch, row -> {
                    acc[0] += cos(a.floats(), b.floats(), row * h, h);
                    acc[1] += 1;
                });
            }
        }
        // logit lens: each layer's residual through the model's final norm and unembedding
        for (int l = 0; l < residNames.size(); l++) {
            HostTensor resid = ref.get(residNames.get(l));
            HostTensor lensLogits = lens.logits(batch, resid, resid.floats());
            int v = lensLogits.width();
            boolean last = l == residNames.size() - 1;
            final int li = l;
            forEachScored(windows, batch, row -> {
                if (argmax(lensLogits.floats(), row * v, v) == argmax(refLogits.floats(), row * v, v)) {
                    lensAgree[li]++;
                }
                if (last) {
                    for (int j = 0; j < v; j++) {
                        lastLayerMaxDiff = Math.max(lastLayerMaxDiff,
                                Math.abs(lensLogits.floats()[row * v + j] - refLogits.floats()[row * v + j]));
                    }
                }
            });
        }
        forEachScored(windows, batch, row -> lensTokens++);
    }

    private void accumulateNll(Setting k, List<Window> windows, TokenBatch batch, HostTensor logits) {
        int v = logits.width();
        Map<String, double[]> byDomain = nll.computeIfAbsent(k, x -> new TreeMap<>());
        Map<Long, double[]> byDoc = docNll.computeIfAbsent(k, x -> new HashMap<>());
        for (int b = 0; b < windows.size(); b++) {
            Window w = windows.get(b);
            for (int s = w.firstScored(); s < w.ids().length; s++) {
                long next = w.next()[s];
                if (next < 0 || next >= v) {
                    continue; // end of document: nothing to predict
                }
                int row = b * batch.seqLen() + s;
                double loss = -logSoftmax(logits.floats(), row * v, v, (int) next);
                double[] d = byDomain.computeIfAbsent(w.domain(), x -> new double[2]);
                d[0] += loss;
                d[1]++;
                double[] dd = byDoc.computeIfAbsent(w.doc(), x -> new double[2]);
                dd[0] += loss;
                dd[1]++;
            }
        }
    }

    private static void forEachScored(List<Window> windows, TokenBatch batch, java.util.function.IntConsumer f) {
        for (int b = 0; b < windows.size(); b++) {
            Window w = windows.get(b);
            for (int s = w.firstScored(); s < w.ids().length; s++) {
                f.accept(b * batch.seqLen() + s);
            }
        }
    }

    /** Cosine similarity of {@code a} and {@code b} over {@code [off, off+n)}; 0 when either is zero. */
    public static double cos(float[] a, float[] b, int off, int n) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = off; i < off + n; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }

    static double logSoftmax(float[] x, int off, int n, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = off; i < off + n; i++) {
            max = Math.max(max, x[i]);
        }
        double z = 0;
        for (int i = off; i < off + n; i++) {
            z += Math.exp(x[i] - max);
        }
        return x[off + target] - max - Math.log(z);
    }

    /** Index (relative to {@code off}) of the largest of {@code x[off .. off+n)}, ties to the lower index. */
    public static int argmax(float[] x, int off, int n) {
        int best = 0;
        for (int j = 1; j < n; j++) {
            if (x[off + j] > x[off + best]) {
                best = j;
            }
        }
        return best;
    }

    // ---- report -------------------------------------------------------------------------------------------------

    /**
     * Perplexity of one k in one domain.
     *
     * @param tokens            predicted tokens
     * @param perplexity        exp(mean NLL over tokens)
     * @param sampleGeoMean     exp(mean over documents of each document's mean NLL): MoE Lens's domain value
     * @param ratioToFullK      perplexity / the full-k perplexity
     */
    public record Perplexity(int k, String variant, String domain, long tokens, double perplexity,
                             double sampleGeoMean, double ratioToFullK) {
    }

    /** Mean cosine similarity of resid_post at k and at the full k, per layer. */
    public record Cosine(int k, String variant, int layer, double meanCosine) {
    }

    /** Share of tokens whose lens top-1 at a layer equals the model's top-1. */
    public record LensLayer(int layer, double top1Agreement) {
    }

    /** The report. */
    public record Report(int fullK, String singleExpertVariant, List<Perplexity> perplexity, List<Cosine> cosine,
                         List<LensLayer> logitLens, long tokens, double lastLayerMaxAbsDiff) {
    }

    /** @param renormalising does the model renormalise its top-k weights (from the gating)? */
    public Report report(boolean renormalising) {
        List<Perplexity> ppl = new ArrayList<>();
        Map<String, double[]> fullByDomain = nll.getOrDefault(reference, Map.of());
        List<Setting> order = new ArrayList<>(nll.keySet());
        order.sort(java.util.Comparator.comparing((Setting x) -> !x.variant().equals(MODEL))
                .thenComparing(Setting::variant).thenComparingInt(Setting::k));
        for (Setting k : order) {
            Map<String, double[]> byDomain = new TreeMap<>(nll.get(k));
            double[] all = new double[2];
            byDomain.values().forEach(d -> {
                all[0] += d[0];
                all[1] += d[1];
            });
            byDomain.put("all", all);
            for (Map.Entry<String, double[]> en : byDomain.entrySet()) {
                String domain = en.getKey();
                double p = Math.exp(en.getValue()[0] / en.getValue()[1]);
                double[] ref = domain.equals("all") ? fullAll() : fullByDomain.get(domain);
                double ratio = ref == null ? Double.NaN : p / Math.exp(ref[0] / ref[1]);
                ppl.add(new Perplexity(k.k(), k.variant(), domain, (long) en.getValue()[1], p, sampleGeoMean(k, domain),
                        ratio));
            }
        }
        List<Cosine> cos = new ArrayList<>();
        cosine.forEach((k, layers) -> {
            for (int l = 0; l < layers.length; l++) {
                cos.add(new Cosine(k.k(), k.variant(), spec.layers().get(l).layer(), layers[l][0] / layers[l][1]));
            }
        });
        List<LensLayer> lensLayers = new ArrayList<>();
        for (int l = 0; l < lensAgree.length; l++) {
            lensLayers.add(new LensLayer(spec.layers().get(l).layer(), (double) lensAgree[l] / lensTokens));
        }
        String variant = renormalising
                ? "renormalised: the model renormalises top-k weights, so k=1 gives the top expert weight 1"
                : "raw: the model keeps raw softmax weights, so k=1 keeps the top expert's raw weight";
        return new Report(fullK, variant, ppl, cos, lensLayers, lensTokens, lastLayerMaxDiff);
    }

    private double[] fullAll() {
        double[] all = new double[2];
        nll.getOrDefault(reference, Map.of()).values().forEach(d -> {
            all[0] += d[0];
            all[1] += d[1];
        });
        return all;
    }

    private double sampleGeoMean(Setting k, String domain) {
        double s = 0;
        int n = 0;
        for (Map.Entry<Long, double[]> en : docNll.get(k).entrySet()) {
            if (domain.equals("all") || domain.equals(docDomain.get(en.getKey()))) {
                s += en.getValue()[0] / en.getValue()[1];
                n++;
            }
        }
        return n == 0 ? Double.NaN : Math.exp(s / n);
    }

    public List<Integer> ks() {
        return ks;
    }

    @Override
    public void close() {
        full.close();
        lens.close();
        sweep.values().forEach(OrtRunner::close);
    }
}
