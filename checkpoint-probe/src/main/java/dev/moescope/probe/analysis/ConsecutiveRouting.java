package dev.moescope.probe.analysis;

/**
 * Mixtral §5 (Table 5) consecutive-token routing at one layer, over pairs of tokens at positions p and p + 1 of
 * the same document:
 * <ul>
 *   <li><b>first choice</b>: both tokens have the same top-1 expert; random routing gives 1/E;</li>
 *   <li><b>first or second choice</b>: the two tokens' top-2 sets share an expert; random gives
 *   1 − C(E−2, 2)/C(E, 2) (46.4 % for Mixtral's E = 8, the paper's random line);</li>
 *   <li>the mean Jaccard similarity of the two full top-k sets (the spec's generalisation).</li>
 * </ul>
 */
public final class ConsecutiveRouting {

    private final int e;
    private long pairs;
    private long sameFirst;
    private long firstOrSecond;
    private double jaccardSum;

    public ConsecutiveRouting(int numExperts) {
        e = numExperts;
    }

    public void add(int[] previous, int[] next) {
        pairs++;
        sameFirst += previous[0] == next[0] ? 1 : 0;
        if (previous.length >= 2 && next.length >= 2) {
            boolean shared = previous[0] == next[0] || previous[0] == next[1]
                    || previous[1] == next[0] || previous[1] == next[1];
            firstOrSecond += shared ? 1 : 0;
        }
        jaccardSum += RoutingAgreement.jaccard(previous, next);
    }

    public long pairs() {
        return pairs;
    }

    public double firstChoiceRate() {
        return pairs == 0 ? 0 : (double) sameFirst / pairs;
    }

    public double firstOrSecondRate() {
        return pairs == 0 ? 0 : (double) firstOrSecond / pairs;
    }

    public double meanJaccard() {
        return pairs == 0 ? 0 : jaccardSum / pairs;
    }

    /** 1/E. */
    public double firstChoiceBaseline() {
        return 1.0 / e;
    }

    /** 1 − C(E−2, 2)/C(E, 2): two random 2-sets of E experts intersect. */
    public double firstOrSecondBaseline() {
        if (e < 4) {
            return 1.0;
        }
        double disjoint = ((double) (e - 2) * (e - 3)) / ((double) e * (e - 1));
        return 1 - disjoint;
    }
}
