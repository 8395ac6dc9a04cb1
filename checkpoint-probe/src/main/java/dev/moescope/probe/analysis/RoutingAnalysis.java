package dev.moescope.probe.analysis;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.Require;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * All single-run routing analyses, fed one {@link TokenRouting} at a time. Tokens of one layer must arrive in
 * document order for the consecutive-token statistics (a pair is (doc, p) followed by (doc, p + 1)); layers may
 * interleave freely.
 */
public final class RoutingAnalysis {

    /** The label every summary gives the co-activation definition used in OLMoE's figures. */
    public static final String FIGURES_COACTIVATION = "adjacent-rank (OLMoE released code; figures use it)";

    private final int numExperts;
    private final int topK;
    private final int vocabMinCount;
    private final Map<Integer, Layer> layers = new TreeMap<>();

    /** Per-layer state. */
    static final class Layer {
        final ExpertLoad all;
        final Map<String, ExpertLoad> byDomain = new TreeMap<>();
        final CoActivation coactivation;
        final ConsecutiveRouting consecutive;
        final VocabularySpecialisation inputVocab;
        final VocabularySpecialisation nextVocab;
        final VocabularySpecialisation predictedVocab;
        TokenRouting last;
        long logitTokens;
        double entropySum;
        double marginSum;
        double topKMassSum;

        Layer(int e) {
            all = new ExpertLoad(e);
            coactivation = new CoActivation(e);
            consecutive = new ConsecutiveRouting(e);
            inputVocab = new VocabularySpecialisation(e);
            nextVocab = new VocabularySpecialisation(e);
            predictedVocab = new VocabularySpecialisation(e);
        }
    }

    /**
     * @param numExperts    E
     * @param topK          k (for the uniform baseline k/E)
     * @param vocabMinCount ids seen fewer times are left out of vocabulary specialisation means (OLMoE used 10)
     */
    public RoutingAnalysis(int numExperts, int topK, int vocabMinCount) {
        this.numExperts = Require.positive("number of experts", numExperts);
        this.topK = Require.positive("top-k", topK);
        Require.that(topK <= numExperts, "top-k", "at most the number of experts", topK);
        this.vocabMinCount = Require.positive("vocabulary minimum count", vocabMinCount);
    }

    public void accept(TokenRouting r) {
        for (int x : r.experts()) {
            if (x < 0 || x >= numExperts) {
                throw MoescopeException.badInput("routing at layer " + r.layer() + " names expert " + x
                        + ", outside [0, " + numExperts + ")");
            }
        }
        Layer s = layers.computeIfAbsent(r.layer(), l -> new Layer(numExperts));
        int[] ex = r.experts();
        s.all.add(ex);
        s.byDomain.computeIfAbsent(r.domain(), d -> new ExpertLoad(numExperts)).add(ex);
        s.coactivation.add(ex);
        s.inputVocab.add(r.tokenId(), ex);
        s.nextVocab.add(r.nextTokenId(), ex);
        s.predictedVocab.add(r.predictedId(), ex);
        if (s.last != null && s.last.doc() == r.doc() && r.position() == s.last.position() + 1) {
            s.consecutive.add(s.last.experts(), ex);
        }
        s.last = r;
        if (r.logits() != null) {
            addConfidence(s, r.logits());
        }
    }

    /**
     * Feeds released per-expert assignment counts of one layer and domain ({@code tokens} tokens, each counted in
     * k experts) instead of per-token routing: only the load metrics (specialisation, balance) follow from them;
     * co-activation, consecutive-token and vocabulary statistics stay empty.
     */
    public void acceptCounts(int layer, String domain, long[] counts, long tokens) {
        if (counts.length != numExperts) {
            throw MoescopeException.badInput("layer " + layer + " of domain " + domain + " has " + counts.length
                    + " expert counts, expected " + numExperts);
        }
        Layer s = layers.computeIfAbsent(layer, l -> new Layer(numExperts));
        s.all.addCounts(counts, tokens);
        s.byDomain.computeIfAbsent(domain, d -> new ExpertLoad(numExperts)).addCounts(counts, tokens);
    }

    /** Per-token routing entropy / log E, top-1 margin p(1) − p(2), and the softmax mass of the top-k. */
    private void addConfidence(Layer s, float[] logits) {
        double[] p = new double[logits.length];
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double z = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] - max);
            z += p[i];
        }
        double h = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] /= z;
            h -= p[i] > 0 ? p[i] * Math.log(p[i]) : 0;
        }
        double[] sorted = p.clone();
        Arrays.sort(sorted);
        double mass = 0;
        for (int i = 0; i < Math.min(topK, sorted.length); i++) {
            mass += sorted[sorted.length - 1 - i];
        }
        s.logitTokens++;
        s.entropySum += h / Math.log(p.length);
        s.marginSum += sorted.length > 1 ? sorted[sorted.length - 1] - sorted[sorted.length - 2] : 1;
        s.topKMassSum += mass;
    }

    public int numExperts() {
        return numExperts;
    }

    public int topK() {
        return topK;
    }

    /** The accumulated state of one layer (for writers). */
    Layer layerState(int layer) {
        return layers.get(layer);
    }

    public List<Integer> layers() {
        return new ArrayList<>(layers.keySet());
    }

    public ExpertLoad load(int layer) {
        return layers.get(layer).all;
    }

    public ExpertLoad load(int layer, String domain) {
        return layers.get(layer).byDomain.get(domain);
    }

    public CoActivation coactivation(int layer) {
        return layers.get(layer).coactivation;
    }

    public ConsecutiveRouting consecutive(int layer) {
        return layers.get(layer).consecutive;
    }

    /** Vocabulary specialisation of input ids ({@code "input"}), next ids ({@code "next"}) or predicted ids. */
    public VocabularySpecialisation vocabulary(int layer, String kind) {
        Layer s = layers.get(layer);
        return switch (kind) {
            case "input" -> s.inputVocab;
            case "next" -> s.nextVocab;
            case "predicted" -> s.predictedVocab;
            default -> throw new IllegalArgumentException(kind);
        };
    }

    public List<String> domains() {
        TreeSet<String> d = new TreeSet<>();
        layers.values().forEach(s -> d.addAll(s.byDomain.keySet()));
        return new ArrayList<>(d);
    }

    // ---- summary -------------------------------------------------------------------------------------------

    /** Load-balance metrics of one histogram. */
    public record LoadMetrics(long tokens, double normalizedEntropy, double coefficientOfVariation, double maxOverMean,
                              double maxVio, int expertsCovering50pct, double largestShare, int largestExpert,
                              int expertsAbove2xUniform, int deadExperts) {
        static LoadMetrics of(ExpertLoad l, int topK) {
            return new LoadMetrics(l.tokens(), l.normalizedEntropy(), l.coefficientOfVariation(), l.maxOverMean(),
                    l.maxVio(), l.expertsCovering(0.5), l.largestShare(), l.largestExpert(), l.expertsAbove(2, topK),
                    l.deadExperts());
        }
    }

    /** Mixtral Table 5 rates with their random baselines. */
    public record Consecutive(long pairs, double firstChoice, double firstChoiceRandom, double firstOrSecond,
                              double firstOrSecondRandom, double meanJaccard) {
    }

    /** The strongest co-activation pair under each definition. */
    public record Coactivation(String figuresUse, double strongestAllPairs, int[] allPairsIJ,
                               double strongestAdjacentRank, int[] adjacentRankIJ) {
    }

    /** Mean vocabulary specialisation over ids seen at least minCount times; NaN where unknown. */
    public record Vocabulary(int minCount, double input, int inputIds, double next, int nextIds, double predicted,
                             int predictedIds) {
    }

    /** Router confidence from full logits (present only when logits were given). */
    public record Confidence(long tokens, double meanNormalizedEntropy, double meanTop1Margin, double meanTopKMass) {
    }

    /** Everything about one layer. */
    public record LayerSummary(int layer, LoadMetrics load, Map<String, LoadMetrics> byDomain,
                               Consecutive consecutive, Coactivation coactivation, Vocabulary vocabulary,
                               Confidence confidence) {
    }

    /**
     * MoE Lens §1.4 quantities over layers, for one domain (or {@code "all"}): the largest expert share and its
     * layer/expert, the median over layers of the per-layer largest share, layers where one expert takes more than
     * half the tokens, mean experts above 2× uniform, mean normalised entropy and mean CV.
     */
    public record DomainSummary(String domain, long tokens, double maxShare, int maxShareLayer, int maxShareExpert,
                                double medianLayerMaxShare, int layersWithExpertOverHalf,
                                double meanExpertsAbove2xUniform, double meanNormalizedEntropy, double meanCv) {
    }

    /** The whole report. */
    public record Summary(int numExperts, int topK, double uniformShare, List<LayerSummary> layers,
                          List<DomainSummary> domains) {
    }

    public Summary summary() {
        List<LayerSummary> ls = new ArrayList<>();
        for (Map.Entry<Integer, Layer> en : layers.entrySet()) {
            Layer s = en.getValue();
            Map<String, LoadMetrics> dom = new LinkedHashMap<>();
            s.byDomain.forEach((d, l) -> dom.put(d, LoadMetrics.of(l, topK)));
            ConsecutiveRouting c = s.consecutive;
            double[] all = s.coactivation.strongest(false);
            double[] adj = s.coactivation.strongest(true);
            Confidence conf = s.logitTokens == 0 ? null : new Confidence(s.logitTokens, s.entropySum / s.logitTokens,
                    s.marginSum / s.logitTokens, s.topKMassSum / s.logitTokens);
            ls.add(new LayerSummary(en.getKey(), LoadMetrics.of(s.all, topK), dom,
                    new Consecutive(c.pairs(), c.firstChoiceRate(), c.firstChoiceBaseline(), c.firstOrSecondRate(),
                            c.firstOrSecondBaseline(), c.meanJaccard()),
                    new Coactivation(FIGURES_COACTIVATION, all[0], new int[]{(int) all[1], (int) all[2]}, adj[0],
                            new int[]{(int) adj[1], (int) adj[2]}),
                    new Vocabulary(vocabMinCount, s.inputVocab.mean(vocabMinCount), s.inputVocab.ids(vocabMinCount),
                            s.nextVocab.mean(vocabMinCount), s.nextVocab.ids(vocabMinCount),
                            s.predictedVocab.mean(vocabMinCount), s.predictedVocab.ids(vocabMinCount)),
                    conf));
        }
        List<DomainSummary> ds = new ArrayList<>();
        ds.add(domainSummary("all", null));
        for (String d : domains()) {
            ds.add(domainSummary(d, d));
        }
        return new Summary(numExperts, topK, (double) topK / numExperts, ls, ds);
    }

    private DomainSummary domainSummary(String label, String domain) {
        List<Double> layerMax = new ArrayList<>();
        double best = -1;
        int bestLayer = -1;
        int bestExpert = -1;
        int over = 0;
        double above = 0;
        double ent = 0;
        double cv = 0;
        long tokens = 0;
        int n = 0;
        for (Map.Entry<Integer, Layer> en : layers.entrySet()) {
            ExpertLoad l = domain == null ? en.getValue().all : en.getValue().byDomain.get(domain);
            if (l == null || l.tokens() == 0) {
                continue;
            }
            n++;
            tokens = Math.max(tokens, l.tokens());
            double m = l.largestShare();
            layerMax.add(m);
            if (m > best) {
                best = m;
                bestLayer = en.getKey();
                bestExpert = l.largestExpert();
            }
            over += m > 0.5 ? 1 : 0;
            above += l.expertsAbove(2, topK);
            ent += l.normalizedEntropy();
            cv += l.coefficientOfVariation();
        }
        if (n == 0) {
            return new DomainSummary(label, 0, 0, -1, -1, 0, 0, 0, 0, 0);
        }
        return new DomainSummary(label, tokens, best, bestLayer, bestExpert, median(layerMax), over, above / n,
                ent / n, cv / n);
    }

    static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(Double::compare);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
