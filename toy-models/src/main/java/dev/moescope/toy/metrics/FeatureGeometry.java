package dev.moescope.toy.metrics;

/**
 * Geometry of the feature vectors W_i (rows of an n × m matrix: one expert, or the dense model), with the
 * definitions of Elhage et al. and the MoE paper's code. Ŵ_i = W_i / ‖W_i‖.
 */
public final class FeatureGeometry {

    /** Norm floor of the superposition colour (the reference's {@code W/(1e-5 + ‖W‖)}). */
    public static final double SUPERPOSITION_EPS = 1e-5;
    /** Norm clamp of the dimensionality formula (the reference's {@code clamp(norms, 1e-6)}). */
    public static final double DIMENSIONALITY_CLAMP = 1e-6;

    private FeatureGeometry() {
    }

    /** ‖W_i‖ per feature. */
    public static double[] norms(float[][] w) {
        double[] out = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            out[i] = Math.sqrt(dot(w[i], w[i]));
        }
        return out;
    }

    /** The Gram matrix WᵀW in TMS notation: entry (i, j) = W_i · W_j. */
    public static double[][] gram(float[][] w) {
        double[][] g = new double[w.length][w.length];
        for (int i = 0; i < w.length; i++) {
            for (int j = 0; j < w.length; j++) {
                g[i][j] = dot(w[i], w[j]);
            }
        }
        return g;
    }

    /**
     * Superposition (polysemanticity) of each feature: √(Σ_{j≠i} (Ŵ_i·W_j)²), Anthropic's {@code render_features}
     * colour and the MoE paper's Table 1 criterion.
     */
    public static double[] superposition(float[][] w) {
        double[] norms = norms(w);
        double[] out = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            double sum = 0;
            for (int j = 0; j < w.length; j++) {
                if (j != i) {
                    double c = dot(w[i], w[j]) / (SUPERPOSITION_EPS + norms[i]);
                    sum += c * c;
                }
            }
            out[i] = Math.sqrt(sum);
        }
        return out;
    }

    /** The phase-diagram score of feature i: Σ_j (Ŵ_i·W_j)² including j = i (‖W_i‖² plus interference). */
    public static double selfInclusiveInterference(float[][] w, int i) {
        double norm = Math.sqrt(dot(w[i], w[i]));
        double sum = 0;
        for (float[] row : w) {
            double c = dot(w[i], row) / (SUPERPOSITION_EPS + norm);
            sum += c * c;
        }
        return sum;
    }

    /** Σ_{j≠i} (Ŵ_i·W_j)², the squared interference used to classify the last feature of a phase-diagram cell. */
    public static double squaredInterference(float[][] w, int i) {
        double s = superposition(w)[i];
        return s * s;
    }

    /**
     * Feature dimensionality D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)² (j over all features, i included). A dedicated feature
     * has D = 1, an antipodal pair 1/2 each; a zero vector has D = 0.
     */
    public static double[] dimensionality(float[][] w) {
        double[] norms = norms(w);
        double[] out = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            double ni = Math.max(norms[i], DIMENSIONALITY_CLAMP);
            double denom = 0;
            for (float[] row : w) {
                double c = dot(w[i], row) / ni;
                denom += c * c;
            }
            out[i] = denom == 0 ? 0 : norms[i] * norms[i] / denom;
        }
        return out;
    }

    /** Σ_i D_i; equals m when the matrix uses all of its m dimensions. */
    public static double dimensionalitySum(float[][] w) {
        double s = 0;
        for (double d : dimensionality(w)) {
            s += d;
        }
        return s;
    }

    /** ‖W‖_F². */
    public static double frobeniusSquared(float[][] w) {
        double s = 0;
        for (float[] row : w) {
            s += dot(row, row);
        }
        return s;
    }

    /** Dense features per dimension ‖W‖_F²/m (inverse of TMS's dimensions per feature m/‖W‖_F²). */
    public static double featuresPerDimension(float[][] w) {
        return frobeniusSquared(w) / w[0].length;
    }

    /** Features with ‖W_i‖ above {@code threshold}. */
    public static int countRepresented(float[][] w, double threshold) {
        int c = 0;
        for (double v : norms(w)) {
            if (v > threshold) {
                c++;
            }
        }
        return c;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int j = 0; j < a.length; j++) {
            s += (double) a[j] * b[j];
        }
        return s;
    }
}
