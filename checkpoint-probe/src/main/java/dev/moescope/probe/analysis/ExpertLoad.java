package dev.moescope.probe.analysis;

import java.util.Arrays;

/**
 * Assignment counts of one layer (optionally one domain): how many tokens had each expert in their top-k, and in
 * first place. All load-balance metrics are computed from the E-bin histogram of top-k assignments.
 */
public final class ExpertLoad {

    private final long[] counts;
    private final long[] top1;
    private long tokens;

    public ExpertLoad(int numExperts) {
        counts = new long[numExperts];
        top1 = new long[numExperts];
    }

    /** From released per-expert assignment counts (e.g. MoE Lens / OLMoE artifacts) and the token count. */
    public static ExpertLoad fromCounts(long[] counts, long tokens) {
        ExpertLoad l = new ExpertLoad(counts.length);
        l.addCounts(counts, tokens);
        return l;
    }

    /**
     * Adds aggregated assignment counts of {@code tokens} more tokens (released artifacts carry counts, not
     * per-token routing). First-choice counts are not known from them and stay as they are.
     */
    public void addCounts(long[] more, long moreTokens) {
        if (more.length != counts.length) {
            throw new IllegalArgumentException(more.length + " counts for " + counts.length + " experts");
        }
        for (int e = 0; e < more.length; e++) {
            counts[e] += more[e];
        }
        tokens += moreTokens;
    }

    public void add(int[] experts) {
        tokens++;
        top1[experts[0]]++;
        for (int e : experts) {
            counts[e]++;
        }
    }

    public int numExperts() {
        return counts.length;
    }

    public long tokens() {
        return tokens;
    }

    public long count(int expert) {
        return counts[expert];
    }

    public long top1Count(int expert) {
        return top1[expert];
    }

    public long assignments() {
        long s = 0;
        for (long c : counts) {
            s += c;
        }
        return s;
    }

    /**
     * OLMoE / MoE Lens specialisation {@code N_{E,D} / N_D}: the fraction of tokens that had this expert in their
     * top-k. Uniform routing gives k/E.
     */
    public double share(int expert) {
        return tokens == 0 ? 0 : (double) counts[expert] / tokens;
    }

    /** The largest {@link #share}: MoE Lens's "few experts handle most routing" (> 0.5 = over half the tokens). */
    public double largestShare() {
        return tokens == 0 ? 0 : (double) Arrays.stream(counts).max().orElse(0) / tokens;
    }

    /** The expert with the largest share (lowest id on ties). */
    public int largestExpert() {
        int best = 0;
        for (int e = 1; e < counts.length; e++) {
            if (counts[e] > counts[best]) {
                best = e;
            }
        }
        return best;
    }

    /** Entropy of the assignment histogram divided by log E: 1 = perfectly balanced, 0 = one expert. */
    public double normalizedEntropy() {
        long total = assignments();
        if (total == 0 || counts.length < 2) {
            return 0;
        }
        double h = 0;
        for (long c : counts) {
            if (c > 0) {
                double p = (double) c / total;
                h -= p * Math.log(p);
            }
        }
        return h / Math.log(counts.length);
    }

    private double mean() {
        return (double) assignments() / counts.length;
    }

    /** Coefficient of variation std/mean of the counts (population std). */
    public double coefficientOfVariation() {
        double m = mean();
        if (m == 0) {
            return 0;
        }
        double v = 0;
        for (long c : counts) {
            v += (c - m) * (c - m);
        }
        return Math.sqrt(v / counts.length) / m;
    }

    /** max count / mean count. */
    public double maxOverMean() {
        double m = mean();
        return m == 0 ? 0 : Arrays.stream(counts).max().orElse(0) / m;
    }

    /** MaxVio = (max − mean) / mean (Wang et al. 2024, aux-loss-free balancing). */
    public double maxVio() {
        double m = mean();
        return m == 0 ? 0 : maxOverMean() - 1;
    }

    /** The fewest experts whose assignments together reach {@code fraction} of all assignments. */
    public int expertsCovering(double fraction) {
        long total = assignments();
        if (total == 0) {
            return 0;
        }
        long[] sorted = counts.clone();
        Arrays.sort(sorted);
        long acc = 0;
        int n = 0;
        for (int i = sorted.length - 1; i >= 0; i--) {
            acc += sorted[i];
            n++;
            if (acc >= fraction * total) {
                break;
            }
        }
        return n;
    }

    /** Experts never chosen. */
    public int deadExperts() {
        int d = 0;
        for (long c : counts) {
            d += c == 0 ? 1 : 0;
        }
        return d;
    }

    /** Experts whose share exceeds {@code factor} × the uniform share k/E. */
    public int expertsAbove(double factor, int topK) {
        double threshold = factor * topK / counts.length;
        int n = 0;
        for (int e = 0; e < counts.length; e++) {
            n += share(e) > threshold ? 1 : 0;
        }
        return n;
    }
}
