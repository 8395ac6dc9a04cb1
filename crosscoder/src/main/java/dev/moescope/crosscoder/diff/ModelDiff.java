package dev.moescope.crosscoder.diff;

import ai.djl.engine.Engine;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.Require;
import dev.moescope.core.progress.Progress;
import dev.moescope.sae.dictionary.Parallel;
import dev.moescope.sae.dictionary.SparseCodes;
import dev.moescope.sae.eval.SaeEvaluation;
import dev.moescope.sae.eval.StoreContexts;
import dev.moescope.sae.eval.TopActivations;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.HookName;
import dev.moescope.store.HookSpec;
import dev.moescope.store.RoutingSpec;
import dev.moescope.store.stream.HookBatch;
import dev.moescope.store.stream.PairedStores;
import dev.moescope.store.stream.ShuffleConfig;
import dev.moescope.store.stream.ShuffledBatches;
import dev.moescope.store.stream.Split;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Model diffing with a trained crosscoder ({@code dictionaries.md} §1.5, §3). From the weights alone: per latent the
 * decoder norms in sources A (the first store) and B (the second), the relative norm r and Δ_norm, the decoder
 * cosine and the class ({@link RelativeNorms}). From one streamed pass over the paired stores (the documents training
 * held out, else every row; stores read in order, one batch at a time): every token encoded with the inference rule
 * ({@link CrosscoderEncoder}), per latent its firing count (density), mean activation, per-domain firings and
 * top-activating rows (sae's {@link TopActivations}, rendered by sae's {@link StoreContexts}); FVE per source and
 * pooled under the threshold and under batch top-k; and, when one of the two stores recorded routing, which experts
 * were active on the tokens where each latent fires ({@link ExpertContext}).
 */
public final class ModelDiff {

    /** Most distinct domains tracked per latent; more are lumped into {@value #OTHER_DOMAINS}. */
    static final int MAX_DOMAINS = 32;
    static final String OTHER_DOMAINS = "(other)";

    private ModelDiff() {
    }

    /**
     * What to diff on and how.
     *
     * @param stores            one store per crosscoder source, in source order (the run's own by default)
     * @param hooks             the hook of each store
     * @param split             which documents to read; null: the held-out ones if training held some out, else all
     * @param maxTokens         stop after this many tokens (0 = all)
     * @param batchRows         rows per encoding batch (also the batch of batch top-k)
     * @param contextsPerLatent top-activating contexts kept per latent (0 = none)
     * @param rules             class thresholds on the relative norm
     * @param routingLayer      MoE layer of the routing context; -1: the hook's layer if routed, else the last
     *                          routed layer
     * @param denseCutoff       density above which a latent counts as dense (stated with the result)
     */
    public record Options(List<Path> stores, List<String> hooks, Split split, long maxTokens, int batchRows,
                          int contextsPerLatent, RelativeNorms rules, int routingLayer, double denseCutoff) {
        public Options {
            Require.that(maxTokens >= 0, "max-tokens", "non-negative", maxTokens);
            Require.positive("batch", batchRows);
            Require.that(contextsPerLatent >= 0, "contexts", "non-negative", contextsPerLatent);
            Require.notNull("rules", rules);
            Require.that(routingLayer >= -1, "routing-layer", "a layer index, or -1 for the default", routingLayer);
            Require.inHalfOpen("dense-cutoff", denseCutoff, 0, 1);
            stores = List.copyOf(stores);
            hooks = List.copyOf(hooks);
        }
    }

    /** Per-latent comparison of the two sources' decoders (weights only). */
    public record Decoders(double[] normA, double[] normB, double[] r, double[] deltaNorm, double[] cosine,
                           LatentClass[] classes) {

        /** Sources {@code a} and {@code b} of {@code w}; the first {@code shared} latents are the designated ones. */
        public static Decoders of(CrosscoderWeights w, int a, int b, int shared, RelativeNorms rules) {
            int f = w.latents();
            double[] na = w.decoderNorms(a);
            double[] nb = w.decoderNorms(b);
            double[] r = new double[f];
            double[] delta = new double[f];
            double[] cos = new double[f];
            LatentClass[] cls = new LatentClass[f];
            int d = w.widths()[a];
            boolean sameWidth = d == w.widths()[b];
            for (int i = 0; i < f; i++) {
                r[i] = RelativeNorms.relativeNorm(na[i], nb[i]);
                delta[i] = RelativeNorms.deltaNorm(na[i], nb[i]);
                cos[i] = sameWidth ? RelativeNorms.cosine(w.decoder(a), i * d, w.decoder(b), i * d, d) : Double.NaN;
                cls[i] = rules.classify(r[i], i < shared);
            }
            return new Decoders(na, nb, r, delta, cos, cls);
        }
    }

    /**
     * What the latents did on the evaluated tokens (threshold encoding).
     *
     * @param tokens        evaluated tokens
     * @param fires         per latent, tokens on which it fired (f > 0)
     * @param activationSum per latent, the sum of its activations (normalised units)
     * @param domainTokens  evaluated tokens per domain
     * @param domainFires   per domain, per latent firings
     */
    public record Activity(long tokens, long[] fires, double[] activationSum, Map<String, Long> domainTokens,
                           Map<String, long[]> domainFires) {

        public double density(int latent) {
            return tokens == 0 ? Double.NaN : (double) fires[latent] / tokens;
        }
    }

    /**
     * Reconstruction quality on the evaluated tokens, in normalised units.
     *
     * @param fveThreshold       FVE per source under the inference threshold
     * @param fvePooledThreshold FVE pooled over sources under the threshold (the paper's headline number)
     * @param fveBatchTopK       FVE per source under batch top-k with the training k
     * @param fvePooledBatchTopK pooled, under batch top-k
     * @param l0Threshold        mean active latents per token under the threshold
     * @param l0BatchTopK        under batch top-k (k, up to rows with fewer positive pre-activations)
     */
    public record Reconstruction(double[] fveThreshold, double fvePooledThreshold, double[] fveBatchTopK,
                                 double fvePooledBatchTopK, double l0Threshold, double l0BatchTopK) {
    }

    /**
     * A diff's results.
     *
     * @param moeSource       the source treated as the MoE (0 or 1)
     * @param moeSourceReason how it was chosen (routing recorded, or the MoE-first convention)
     * @param sourceModels    each store's model name
     * @param thresholdUsed   false when training never estimated θ and batch top-k stands in
     * @param experts         the routing context, or null when the MoE store recorded no routing
     * @param contexts        top-activating contexts of every latent that fired (empty with no contexts asked)
     */
    public record Result(CrosscoderRun run, Options options, Split split, int moeSource, String moeSourceReason,
                         List<String> sourceModels, boolean thresholdUsed, Decoders decoders, Activity activity,
                         Reconstruction reconstruction, ExpertContext experts,
                         List<StoreContexts.LatentContexts> contexts) {

        /** The source-specific class of the MoE source. */
        public LatentClass moeSpecific() {
            return moeSource == 0 ? LatentClass.A_SPECIFIC : LatentClass.B_SPECIFIC;
        }

        /** The source-specific class of the other (dense) source. */
        public LatentClass denseSpecific() {
            return moeSource == 0 ? LatentClass.B_SPECIFIC : LatentClass.A_SPECIFIC;
        }
    }

    /** The stores and hooks to diff on: {@code stores}/{@code hooks} if given, else the run's own. */
    public static List<Path> storesOf(CrosscoderRun run, List<Path> stores) {
        if (!stores.isEmpty()) {
            if (stores.size() != run.weights().sources()) {
                throw MoescopeException.usage("the crosscoder in " + run.dir() + " has " + run.weights().sources()
                        + " sources; give one --store each (got " + stores.size() + ")");
            }
            return stores;
        }
        if (run.stores().isEmpty()) {
            throw MoescopeException.usage(run.dir() + " was not trained on stores (synthetic data?): give --store "
                    + "for each of its " + run.weights().sources() + " sources");
        }
        return run.stores();
    }

    /** The hook of each store: {@code hooks} if given, else the run's own. */
    public static List<String> hooksOf(CrosscoderRun run, List<String> hooks, int stores) {
        if (!hooks.isEmpty()) {
            if (hooks.size() != stores) {
                throw MoescopeException.usage("one --hook per --store: " + stores + " stores, " + hooks.size()
                        + " hooks");
            }
            return hooks;
        }
        if (run.hooks().size() != stores || run.hooks().contains("")) {
            throw MoescopeException.usage(run.dir() + " records no hooks for these stores: give one --hook per --store");
        }
        return run.hooks();
    }

    /** Runs the diff; {@code threads} bounds the batch top-k selection's parallelism. */
    public static Result run(Engine engine, CrosscoderRun run, Options o, int threads) {
        CrosscoderWeights w = run.weights();
        int f = w.latents();
        if (o.stores().size() != w.sources() || o.hooks().size() != w.sources()) {
            throw MoescopeException.usage("need one store and one hook per crosscoder source (" + w.sources() + ")");
        }
        Decoders decoders = Decoders.of(w, 0, 1, run.shared(), o.rules());
        Split split = o.split() != null ? o.split() : run.heldOutDocuments() ? Split.VALIDATION : Split.ALL;
        double fraction = run.heldOutDocuments() ? run.validationFraction() : 0.1;
        try (PairedStores paired = PairedStores.open(o.stores());
             Parallel par = new Parallel(threads);
             CrosscoderEncoder enc = new CrosscoderEncoder(engine, run, par)) {
            List<ActivationStore> stores = paired.stores();
            List<String> models = new ArrayList<>();
            for (int s = 0; s < stores.size(); s++) {
                HookSpec h = stores.get(s).hook(o.hooks().get(s));
                if (h.width() != w.widths()[s]) {
                    throw MoescopeException.badInput(stores.get(s).directory(), "hook " + h.name() + " has width "
                            + h.width() + " but source " + s + " of the crosscoder in " + run.dir() + " has width "
                            + w.widths()[s]);
                }
                models.add(modelName(stores.get(s).model().name()));
            }
            boolean routedA = !stores.get(0).routing().isEmpty();
            boolean routedB = !stores.get(1).routing().isEmpty();
            int moe = routedB && !routedA ? 1 : 0;
            String reason = routedA != routedB ? "the store that recorded routing"
                    : routedA ? "both stores recorded routing: the first store, by the MoE-first convention"
                    : "no store recorded routing: the first store, by the MoE-first convention";
            ActivationStore moeStore = stores.get(moe);
            ExpertContext experts = null;
            if (!moeStore.routing().isEmpty()) {
                RoutingSpec rs = routingLayer(moeStore, o.hooks().get(moe), o.routingLayer());
                experts = new ExpertContext(rs.layer(), rs.experts(), f);
            } else if (o.routingLayer() >= 0) {
                throw MoescopeException.badInput(moeStore.directory(), "--routing-layer " + o.routingLayer()
                        + " given but this store recorded no routing");
            }
            ShuffleConfig cfg = new ShuffleConfig(o.batchRows(), o.batchRows(), run.seed(), 0, split, fraction, false,
                    false);
            Activity activity;
            Reconstruction rec;
            TopActivations top = o.contextsPerLatent() > 0 ? new TopActivations(f, o.contextsPerLatent()) : null;
            Fve fveT = new Fve(w.widths());
            Fve fveK = new Fve(w.widths());
            long[] fires = new long[f];
            double[] actSum = new double[f];
            Map<String, Long> domainTokens = new LinkedHashMap<>();
            Map<String, long[]> domainFires = new LinkedHashMap<>();
            long tokens = 0;
            double l0T = 0;
            double l0K = 0;
            long total = o.maxTokens() > 0 ? o.maxTokens() : split == Split.ALL ? paired.rows() : -1;
            DomainLookup domains = new DomainLookup(stores.get(0));
            try (ShuffledBatches batches = paired.shuffled(o.hooks(), cfg);
                 Progress p = Progress.start("crosscoder diff", total, "tok")) {
                HookBatch b;
                while ((o.maxTokens() == 0 || tokens < o.maxTokens()) && (b = batches.next()) != null) {
                    int n = (int) Math.min(b.rows(), o.maxTokens() == 0 ? Long.MAX_VALUE : o.maxTokens() - tokens);
                    float[][] x = new float[w.sources()][];
                    for (int s = 0; s < x.length; s++) {
                        x[s] = n == b.rows() ? b.values(s) : java.util.Arrays.copyOf(b.values(s), n * w.widths()[s]);
                        checkFinite(x[s], stores.get(s).directory(), b.rowIndex()[0]);
                    }
                    long[] rowIds = n == b.rows() ? b.rowIndex() : java.util.Arrays.copyOf(b.rowIndex(), n);
                    enc.normalise(x, n);
                    CrosscoderEncoder.Codes codes = enc.encode(x, n);
                    for (int s = 0; s < x.length; s++) {
                        fveT.add(s, x[s], enc.decode(codes.threshold(), s), n);
                        fveK.add(s, x[s], codes.batchTopK() == codes.threshold() ? enc.decode(codes.threshold(), s)
                                : enc.decode(codes.batchTopK(), s), n);
                    }
                    SparseCodes c = codes.threshold();
                    l0T += c.l0() * n;
                    l0K += codes.batchTopK().l0() * n;
                    String[] rowDomains = domains.of(rowIds);
                    for (int r = 0; r < n; r++) {
                        String dom = domainKey(domainFires, rowDomains[r], f);
                        domainTokens.merge(dom, 1L, Long::sum);
                        long[] df = domainFires.get(dom);
                        for (int q = c.rowPtr[r]; q < c.rowPtr[r + 1]; q++) {
                            if (c.vals[q] > 0) {
                                fires[c.cols[q]]++;
                                actSum[c.cols[q]] += c.vals[q];
                                df[c.cols[q]]++;
                            }
                        }
                    }
                    if (top != null) {
                        top.add(c, rowIds);
                    }
                    if (experts != null) {
                        experts.add(c, rowIds, moeStore.readRouting(experts.layer(), rowIds[0],
                                (int) (rowIds[n - 1] - rowIds[0] + 1)));
                    }
                    tokens += n;
                    p.stepBy(n);
                }
            }
            if (tokens == 0) {
                throw MoescopeException.badInput(o.stores().get(0), "no " + (split == Split.VALIDATION
                        ? "held-out rows to diff on (too few documents for the validation split; try --split all)"
                        : "rows to diff on"));
            }
            activity = new Activity(tokens, fires, actSum, domainTokens, domainFires);
            rec = new Reconstruction(fveT.perSource(), fveT.pooled(), fveK.perSource(), fveK.pooled(),
                    l0T / tokens, l0K / tokens);
            List<StoreContexts.LatentContexts> ctx = top == null ? List.of()
                    : StoreContexts.render(top, stores.get(0), SaeEvaluation.CONTEXT_BEFORE,
                    SaeEvaluation.CONTEXT_AFTER);
            return new Result(run, o, split, moe, reason, List.copyOf(models), enc.usesThreshold(), decoders,
                    activity, rec, experts, ctx);
        }
    }

    /** The routing layer: the asked one, else the hook's layer if routed, else the last routed layer. */
    private static RoutingSpec routingLayer(ActivationStore store, String hook, int asked) {
        if (asked >= 0) {
            return store.routingOf(asked);
        }
        java.util.OptionalInt l = HookName.layer(hook);
        if (l.isPresent()) {
            RoutingSpec r = RoutingSpec.find(store.routing(), l.getAsInt());
            if (r != null) {
                return r;
            }
        }
        RoutingSpec last = null;
        for (RoutingSpec r : store.routing()) {
            if (last == null || r.layer() > last.layer()) {
                last = r;
            }
        }
        return last;
    }

    /** A model's short name for tables: "tiny-moe/model.onnx" reads as "tiny-moe". */
    static String modelName(String name) {
        int slash = name.lastIndexOf('/');
        return slash > 0 && name.endsWith(".onnx") ? name.substring(name.lastIndexOf('/', slash - 1) + 1, slash) : name;
    }

    private static String domainKey(Map<String, long[]> domainFires, String domain, int latents) {
        String d = domain == null ? "" : domain;
        if (!domainFires.containsKey(d)) {
            if (domainFires.size() >= MAX_DOMAINS) {
                d = OTHER_DOMAINS;
            }
            domainFires.computeIfAbsent(d, k -> new long[latents]);
        }
        return d;
    }

    private static void checkFinite(float[] x, Path store, long firstRow) {
        for (float v : x) {
            if (!Float.isFinite(v)) {
                throw MoescopeException.badInput(store, "non-finite activation in the batch starting at row "
                        + firstRow);
            }
        }
    }

    /** Domain of each row, reading one token per document (rows come in store order, documents contiguous). */
    private static final class DomainLookup {
        private final ActivationStore store;
        private long lastDoc = -1;
        private String lastDomain;

        DomainLookup(ActivationStore store) {
            this.store = store;
        }

        String[] of(long[] rowIds) {
            long first = rowIds[0];
            int span = (int) (rowIds[rowIds.length - 1] - first + 1);
            long[] docs = store.readDocumentIndex(first, span);
            String[] out = new String[rowIds.length];
            for (int r = 0; r < rowIds.length; r++) {
                long doc = docs[(int) (rowIds[r] - first)];
                if (doc != lastDoc) {
                    lastDoc = doc;
                    lastDomain = store.readTokens(rowIds[r], 1).domain()[0];
                }
                out[r] = lastDomain;
            }
            return out;
        }
    }
}
