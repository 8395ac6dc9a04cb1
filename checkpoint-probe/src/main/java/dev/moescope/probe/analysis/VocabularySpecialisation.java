package dev.moescope.probe.analysis;

import java.util.HashMap;
import java.util.Map;

/**
 * OLMoE vocabulary specialisation at one layer for one kind of token id (input, ground-truth next, or predicted
 * next): for each token id x, {@code vspec(x) = max_e N_{x,e} / N_x}, the share of x's occurrences routed (in the
 * top-k) to x's most frequent expert; reported as the mean over ids seen at least {@code minCount} times.
 * Memory: one E-long count row per distinct id.
 */
public final class VocabularySpecialisation {

    private final int e;
    private final Map<Long, long[]> perToken = new HashMap<>(); // id -> [E counts..., occurrences]

    public VocabularySpecialisation(int numExperts) {
        e = numExperts;
    }

    public void add(long tokenId, int[] experts) {
        if (tokenId < 0) {
            return;
        }
        long[] row = perToken.computeIfAbsent(tokenId, k -> new long[e + 1]);
        for (int x : experts) {
            row[x]++;
        }
        row[e]++;
    }

    /** {@code vspec(x)}, or NaN for an unseen id. */
    public double specialisation(long tokenId) {
        long[] row = perToken.get(tokenId);
        if (row == null) {
            return Double.NaN;
        }
        long max = 0;
        for (int x = 0; x < e; x++) {
            max = Math.max(max, row[x]);
        }
        return (double) max / row[e];
    }

    /** The mean of {@code vspec(x)} over ids seen at least {@code minCount} times (NaN if none). */
    public double mean(int minCount) {
        double s = 0;
        int n = 0;
        for (Map.Entry<Long, long[]> en : perToken.entrySet()) {
            if (en.getValue()[e] >= minCount) {
                s += specialisation(en.getKey());
                n++;
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }

    /** Number of ids seen at least {@code minCount} times. */
    public int ids(int minCount) {
        int n = 0;
        for (long[] row : perToken.values()) {
            n += row[e] >= minCount ? 1 : 0;
        }
        return n;
    }
}
