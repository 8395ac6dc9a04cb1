package dev.moescope.toy.experiments;

/** The MoE paper's Fig 4 grid: 39 sparsities × 58 last-feature importances (and the --quick 9 × 8 version). */
public final class PhaseGrid {

    private PhaseGrid() {
    }

    /** S = 0.025, 0.050, …, 0.975 (39 values); quick: 0.1 … 0.9 (9). */
    public static double[] sparsities(boolean quick) {
        int count = quick ? 9 : 39;
        double[] s = new double[count];
        for (int i = 0; i < count; i++) {
            s[i] = quick ? Math.round((i + 1) * 100) / 1000.0 : Math.round((i + 1) * 25) / 1000.0;
        }
        return s;
    }

    /** Importance 0.10, 0.15, …, 2.95 (58 values); quick: 0.1 … 2.9 step 0.4 (8). */
    public static double[] importances(boolean quick) {
        int count = quick ? 8 : 58;
        double step = quick ? 0.4 : 0.05;
        double[] v = new double[count];
        for (int i = 0; i < count; i++) {
            v[i] = Math.round((0.1 + i * step) * 1000) / 1000.0;
        }
        return v;
    }
}
