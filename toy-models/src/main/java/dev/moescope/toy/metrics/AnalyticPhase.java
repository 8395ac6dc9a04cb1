package dev.moescope.toy.metrics;

/**
 * The exact phase diagram of the smallest toy models (Wattenberg's closed forms, reproduced in the MoE paper's
 * Fig 4 comparison): which explicit solution has the lowest expected loss at density s = 1 − S when the last
 * feature has relative importance r and the others 1.
 */
public final class AnalyticPhase {

    /** What the last feature's column of W does. */
    public enum FeatureClass {
        NOT_REPRESENTED, DEDICATED, SUPERPOSED
    }

    private AnalyticPhase() {
    }

    /**
     * n=2, m=1: superposition (an antipodal pair) is optimal iff s is below this density: 4r/(5r+2) for r ≤ 1,
     * 4/(2r+5) for r ≥ 1 (apex 4/7 at r = 1).
     */
    public static double criticalDensityN2M1(double r) {
        return r <= 1 ? 4 * r / (5 * r + 2) : 4 / (2 * r + 5);
    }

    /** The optimal class of the last feature for n=2, m=1. At r = 1 above the boundary both features tie; the last is reported ignored. */
    public static FeatureClass classifyN2M1(double r, double s) {
        if (s < criticalDensityN2M1(r)) {
            return FeatureClass.SUPERPOSED;
        }
        return r > 1 ? FeatureClass.DEDICATED : FeatureClass.NOT_REPRESENTED;
    }

    /** n=3, m=2: for r &lt; 1 the last feature superposes iff s &lt; 4r/(5r+2), else it is ignored; for r &gt; 1 it is dedicated. */
    public static FeatureClass classifyN3M2(double r, double s) {
        if (r > 1) {
            return FeatureClass.DEDICATED;
        }
        return s < 4 * r / (5 * r + 2) ? FeatureClass.SUPERPOSED : FeatureClass.NOT_REPRESENTED;
    }

    /** The analytic class where one exists (n=2,m=1 and n=3,m=2), else null. */
    public static FeatureClass classify(int n, int m, double r, double s) {
        if (n == 2 && m == 1) {
            return classifyN2M1(r, s);
        }
        if (n == 3 && m == 2) {
            return classifyN3M2(r, s);
        }
        return null;
    }

    /** Expected loss of one ignored weight-1 coordinate with bias s/2: s/3 − s²/4. */
    public static double lossIgnore(double s) {
        return s / 3 - s * s / 4;
    }

    /** Expected loss of an antipodal pair of two weight-1 coordinates: s²/3. */
    public static double lossAntipodal(double s) {
        return s * s / 3;
    }

    /** Expected loss of an antipodal pair of a weight-1 and the weight-r coordinate: (1+r)s²/6. */
    public static double lossAntipodalLast(double r, double s) {
        return (1 + r) * s * s / 6;
    }
}
