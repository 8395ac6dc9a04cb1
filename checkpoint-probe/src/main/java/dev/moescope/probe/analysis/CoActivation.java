package dev.moescope.probe.analysis;

/**
 * Expert co-activation {@code coact(i, j) = N_{i,j} / N_i}: of the tokens routed to expert i, the share also routed
 * to j. Two pair counts are kept, because published figures use different ones:
 * <ul>
 *   <li><b>all pairs</b>: every unordered pair of a token's top-k (the definition in the OLMoE paper's text);</li>
 *   <li><b>adjacent rank</b>: only pairs next to each other in the rank-ordered top-k, both directions — what
 *   OLMoE's released code ({@code more_itertools.pairwise}) and therefore its figures count.</li>
 * </ul>
 */
public final class CoActivation {

    private final int e;
    private final long[] routedTo;
    private final long[] allPairs;
    private final long[] adjacent;

    public CoActivation(int numExperts) {
        e = numExperts;
        routedTo = new long[e];
        allPairs = new long[e * e];
        adjacent = new long[e * e];
    }

    public void add(int[] experts) {
        for (int a = 0; a < experts.length; a++) {
            routedTo[experts[a]]++;
            for (int b = a + 1; b < experts.length; b++) {
                allPairs[experts[a] * e + experts[b]]++;
                allPairs[experts[b] * e + experts[a]]++;
            }
            if (a + 1 < experts.length) {
                adjacent[experts[a] * e + experts[a + 1]]++;
                adjacent[experts[a + 1] * e + experts[a]]++;
            }
        }
    }

    public int numExperts() {
        return e;
    }

    /** All-pairs {@code N_{i,j} / N_i}. */
    public double allPairs(int i, int j) {
        return routedTo[i] == 0 ? 0 : (double) allPairs[i * e + j] / routedTo[i];
    }

    /** OLMoE-code adjacent-rank {@code N_{i,j} / N_i}. */
    public double adjacentRank(int i, int j) {
        return routedTo[i] == 0 ? 0 : (double) adjacent[i * e + j] / routedTo[i];
    }

    /** The largest off-diagonal value and its pair, for a definition. */
    public double[] strongest(boolean adjacentRank) {
        double best = -1;
        int bi = 0;
        int bj = 0;
        for (int i = 0; i < e; i++) {
            for (int j = 0; j < e; j++) {
                double v = i == j ? -1 : adjacentRank ? adjacentRank(i, j) : allPairs(i, j);
                if (v > best) {
                    best = v;
                    bi = i;
                    bj = j;
                }
            }
        }
        return new double[]{Math.max(best, 0), bi, bj};
    }
}
