package dev.moescope.toy.metrics;

import dev.moescope.toy.metrics.AnalyticPhase.FeatureClass;

/**
 * A phase map: the class of the last feature in each cell of a (sparsity × importance) grid, and the summary
 * numbers that turn "is there a sharp phase change" into numbers. Rows are sparsity values, columns importances.
 */
public final class PhaseMap {

    /** Norm below which the last feature counts as not represented. */
    public static final double NORM_THRESHOLD = 0.5;
    /** Squared interference above which a represented last feature counts as superposed. */
    public static final double INTERFERENCE_THRESHOLD = 0.5;

    private PhaseMap() {
    }

    /** "not represented" if ‖W_last‖ &lt; 0.5, else "superposed" if Σ_{j≠last}(Ŵ_last·W_j)² &gt; 0.5, else "dedicated". */
    public static FeatureClass classifyLastFeature(float[][] w) {
        int last = w.length - 1;
        double norm = FeatureGeometry.norms(w)[last];
        if (norm < NORM_THRESHOLD) {
            return FeatureClass.NOT_REPRESENTED;
        }
        return FeatureGeometry.squaredInterference(w, last) > INTERFERENCE_THRESHOLD
                ? FeatureClass.SUPERPOSED : FeatureClass.DEDICATED;
    }

    /** Fraction of grid-adjacent cell pairs (horizontal and vertical) whose classes differ. */
    public static double roughness(FeatureClass[][] grid) {
        int pairs = 0;
        int differ = 0;
        for (int r = 0; r < grid.length; r++) {
            for (int c = 0; c < grid[r].length; c++) {
                if (c + 1 < grid[r].length) {
                    pairs++;
                    differ += grid[r][c] != grid[r][c + 1] ? 1 : 0;
                }
                if (r + 1 < grid.length) {
                    pairs++;
                    differ += grid[r][c] != grid[r + 1][c] ? 1 : 0;
                }
            }
        }
        return pairs == 0 ? 0 : (double) differ / pairs;
    }

    /** Fraction of cells whose classes agree. */
    public static double agreement(FeatureClass[][] a, FeatureClass[][] b) {
        int same = 0;
        int total = 0;
        for (int r = 0; r < a.length; r++) {
            for (int c = 0; c < a[r].length; c++) {
                total++;
                same += a[r][c] == b[r][c] ? 1 : 0;
            }
        }
        return (double) same / total;
    }

    /** Fraction of cells where the class is {@code cls}. */
    public static double fraction(FeatureClass[][] grid, FeatureClass cls) {
        int hit = 0;
        int total = 0;
        for (FeatureClass[] row : grid) {
            for (FeatureClass f : row) {
                total++;
                hit += f == cls ? 1 : 0;
            }
        }
        return (double) hit / total;
    }

    /** The analytic map on a grid (null if no closed form exists for this n, m). */
    public static FeatureClass[][] analytic(int n, int m, double[] sparsity, double[] importance) {
        if (AnalyticPhase.classify(n, m, 1, 0.5) == null) {
            return null;
        }
        FeatureClass[][] g = new FeatureClass[sparsity.length][importance.length];
        for (int r = 0; r < sparsity.length; r++) {
            for (int c = 0; c < importance.length; c++) {
                g[r][c] = AnalyticPhase.classify(n, m, importance[c], 1 - sparsity[r]);
            }
        }
        return g;
    }

    /**
     * The MoE paper's 2-D colour (Fig 4): y = norm/maxNorm, x = score/maxScore clipped to [0,1];
     * RGB = (y·x + 1 − y, 1 − y, y·(1 − x) + 1 − y). White: not represented; blue: dedicated; red: superposed.
     */
    public static int[] colour(double norm, double score, double maxNorm, double maxScore) {
        double y = clip(maxNorm > 0 ? norm / maxNorm : 0);
        double x = clip(maxScore > 0 ? score / maxScore : 0);
        double r = y * x + (1 - y);
        double g = 1 - y;
        double b = y * (1 - x) + (1 - y);
        return new int[] {(int) Math.round(255 * r), (int) Math.round(255 * g), (int) Math.round(255 * b)};
    }

    private static double clip(double v) {
        return Math.max(0, Math.min(1, v));
    }
}
