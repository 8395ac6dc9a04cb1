package dev.moescope.sae.train;

/**
 * The gradients of one training step, as plain arrays laid out like the parameters ({@code encoder} and
 * {@code decoder} are {@code F x d} latent-major), plus what the step measured.
 */
public final class Gradients {

    public final float[] encoder;
    public final float[] encoderBias;
    public final float[] decoder;
    public final float[] decoderBias;
    /** Total loss: reconstruction + α·AuxK + the decoder-norm L1 term. */
    public double loss;
    /** The decoder-norm-weighted L1 term (0 when the objective has none). */
    public double sparsity;
    /** Mean over tokens of ‖x − x̂‖² (normalised units). */
    public double reconstruction;
    /** The normalised AuxK loss before α. */
    public double auxk;
    /** Mean number of active latents per token in the batch. */
    public double l0;
    /** Smallest positive selected activation (the threshold statistic). */
    public float minSelected;
    /** Dead latents at this step. */
    public int dead;
    /** The step's residual {@code x̂ − x} ({@code rows x width}), for per-part losses; do not keep across steps. */
    public float[] residual;

    public Gradients(int latents, int width) {
        encoder = new float[latents * width];
        encoderBias = new float[latents];
        decoder = new float[latents * width];
        decoderBias = new float[width];
    }

    /** Global L2 norm over all four gradients. */
    public double norm() {
        double s = 0;
        for (float[] a : new float[][]{encoder, encoderBias, decoder, decoderBias}) {
            for (float v : a) {
                s += (double) v * v;
            }
        }
        return Math.sqrt(s);
    }

    /** Multiplies every gradient by {@code f}. */
    public void scale(float f) {
        for (float[] a : new float[][]{encoder, encoderBias, decoder, decoderBias}) {
            for (int i = 0; i < a.length; i++) {
                a[i] *= f;
            }
        }
    }
}
