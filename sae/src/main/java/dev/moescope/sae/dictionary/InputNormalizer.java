package dev.moescope.sae.dictionary;

/**
 * Scalar input normalisation: one factor {@code c} with {@code E‖c·x‖² = d}, estimated once from the first
 * training batches (dictionary_learning scales to mean squared norm 1; SAELens and the crosscoder replications
 * to mean norm √d; we use E‖x‖² = d so normalised activations have unit mean square per dimension). Training runs
 * on {@code c·x}; exported weights have {@code c} folded back in so users feed raw activations.
 */
public final class InputNormalizer {

    private double sumSq;
    private long rows;

    /** Accumulates a batch of {@code rows x width} activations. */
    public void accumulate(float[] x, int rows, int width) {
        double s = 0;
        for (int i = 0; i < rows * width; i++) {
            s += (double) x[i] * x[i];
        }
        sumSq += s;
        this.rows += rows;
    }

    /** The factor for {@code width}-dimensional rows: {@code √(d / mean‖x‖²)}, or 1 with no data or all zeros. */
    public double scale(int width) {
        if (rows == 0 || sumSq <= 0) {
            return 1.0;
        }
        return Math.sqrt(width / (sumSq / rows));
    }

    /** Multiplies {@code x} in place by {@code scale}. */
    public static void apply(float[] x, int n, double scale) {
        float s = (float) scale;
        for (int i = 0; i < n; i++) {
            x[i] *= s;
        }
    }
}
