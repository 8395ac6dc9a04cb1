package dev.moescope.sae.dictionary;

/**
 * The unit-norm decoder constraint of SAEs: before each update the gradient component parallel to each unit
 * decoder row is removed (so Adam's step is, to first order, tangent to the sphere), and after it every row is
 * renormalised. Rows are {@code width} contiguous floats (latent-major), as the sparse decoder gathers them.
 */
public final class DecoderNorm {

    private DecoderNorm() {
    }

    /** {@code grad_i ← grad_i − (grad_i·w_i) w_i} for each unit row {@code w_i}. */
    public static void projectGradient(float[] rowsW, float[] grad, int latents, int width, Parallel par) {
        par.forRange(latents, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                int o = i * width;
                float dot = 0;
                for (int j = 0; j < width; j++) {
                    dot += grad[o + j] * rowsW[o + j];
                }
                for (int j = 0; j < width; j++) {
                    grad[o + j] -= dot * rowsW[o + j];
                }
            }
        });
    }

    /** Scales each row to unit Euclidean norm (rows of norm 0 are left alone). */
    public static void normalizeRows(float[] rowsW, int latents, int width, Parallel par) {
        par.forRange(latents, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                int o = i * width;
                double s = 0;
                for (int j = 0; j < width; j++) {
                    s += (double) rowsW[o + j] * rowsW[o + j];
                }
                if (s > 0) {
                    float inv = (float) (1.0 / Math.sqrt(s));
                    for (int j = 0; j < width; j++) {
                        rowsW[o + j] *= inv;
                    }
                }
            }
        });
    }
}
