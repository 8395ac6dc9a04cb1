package dev.moescope.crosscoder.diff;

/**
 * Streaming fraction of variance explained, the paper code's definition ({@code dictionaries.md} §1.4, §3):
 * {@code FVE = 1 − Σ_d Var_b(x − x̂) / Σ_d Var_b(x)} per source, and pooled over sources by summing both sums over
 * sources too. Sums are kept in double; memory is two vectors of width d per source.
 */
public final class Fve {

    private final int[] widths;
    private final double[][] sumX;
    private final double[][] sumE;
    private final double[] sumX2;
    private final double[] sumE2;
    private long rows;

    public Fve(int[] widths) {
        this.widths = widths.clone();
        int n = widths.length;
        sumX = new double[n][];
        sumE = new double[n][];
        for (int s = 0; s < n; s++) {
            sumX[s] = new double[widths[s]];
            sumE[s] = new double[widths[s]];
        }
        sumX2 = new double[n];
        sumE2 = new double[n];
    }

    /** Adds {@code rows} rows of source s: inputs {@code x} and reconstructions {@code xhat}, row-major. */
    public void add(int s, float[] x, float[] xhat, int rows) {
        int d = widths[s];
        double[] sx = sumX[s];
        double[] se = sumE[s];
        double x2 = 0;
        double e2 = 0;
        for (int r = 0; r < rows; r++) {
            int o = r * d;
            for (int j = 0; j < d; j++) {
                double xv = x[o + j];
                double e = xv - xhat[o + j];
                sx[j] += xv;
                se[j] += e;
                x2 += xv * xv;
                e2 += e * e;
            }
        }
        sumX2[s] += x2;
        sumE2[s] += e2;
        if (s == 0) {
            this.rows += rows;
        }
    }

    public long rows() {
        return rows;
    }

    /** Source s's {@code Σ_d Var(x)} and {@code Σ_d Var(x − x̂)} (times the row count). */
    private double[] variances(int s) {
        double vx = sumX2[s];
        double ve = sumE2[s];
        for (int j = 0; j < widths[s]; j++) {
            vx -= sumX[s][j] * sumX[s][j] / rows;
            ve -= sumE[s][j] * sumE[s][j] / rows;
        }
        return new double[]{vx, ve};
    }

    /** FVE of source s (NaN without rows or variance). */
    public double of(int s) {
        if (rows == 0) {
            return Double.NaN;
        }
        double[] v = variances(s);
        return v[0] > 0 ? 1 - v[1] / v[0] : Double.NaN;
    }

    /** FVE pooled over every source. */
    public double pooled() {
        if (rows == 0) {
            return Double.NaN;
        }
        double vx = 0;
        double ve = 0;
        for (int s = 0; s < widths.length; s++) {
            double[] v = variances(s);
            vx += v[0];
            ve += v[1];
        }
        return vx > 0 ? 1 - ve / vx : Double.NaN;
    }

    /** Every source's FVE, in source order. */
    public double[] perSource() {
        double[] out = new double[widths.length];
        for (int s = 0; s < out.length; s++) {
            out[s] = of(s);
        }
        return out;
    }
}
