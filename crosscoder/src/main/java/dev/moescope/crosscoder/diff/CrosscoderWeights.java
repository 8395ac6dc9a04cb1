package dev.moescope.crosscoder.diff;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.io.Safetensors;

import java.nio.file.Path;
import java.util.Map;

/**
 * A trained crosscoder read back from the {@code crosscoder.safetensors} that {@code crosscoder train} writes
 * ({@code CrosscoderTraining.save}): per source s {@code W_enc.s} ({@code d_s x F}), {@code W_dec.s}
 * ({@code F x d_s}), {@code b_dec.s}, {@code input_scale.s}, and the shared {@code b_enc} and {@code threshold}.
 * Weights are in normalised units: source s's raw activations are multiplied by its input scale first. A missing
 * tensor, a shape that does not fit the others or a non-finite value is a one-line bad-input error naming the file.
 */
public final class CrosscoderWeights {

    private final Path file;
    private final int latents;
    private final int[] widths;
    private final float[][] encoders;
    private final float[][] decoders;
    private final float[][] decoderBiases;
    private final double[] inputScales;
    private final float[] encoderBias;
    private final double threshold;
    private final Map<String, String> metadata;

    private CrosscoderWeights(Path file, int latents, int[] widths, float[][] encoders, float[][] decoders,
                              float[][] decoderBiases, double[] inputScales, float[] encoderBias, double threshold,
                              Map<String, String> metadata) {
        this.file = file;
        this.latents = latents;
        this.widths = widths;
        this.encoders = encoders;
        this.decoders = decoders;
        this.decoderBiases = decoderBiases;
        this.inputScales = inputScales;
        this.encoderBias = encoderBias;
        this.threshold = threshold;
        this.metadata = metadata;
    }

    /** Reads and checks {@code file}. */
    public static CrosscoderWeights read(Path file) {
        Safetensors.Contents c = Safetensors.read(file);
        int sources = 0;
        while (c.f32().containsKey("W_dec." + sources)) {
            sources++;
        }
        if (sources < 2) {
            throw MoescopeException.badInput(file, "not a crosscoder: " + sources + " decoder tensors W_dec.<s>, "
                    + "need at least two");
        }
        float[] bEnc = c.floats(file, "b_enc");
        int nLat = bEnc.length;
        if (nLat == 0) {
            throw MoescopeException.badInput(file, "b_enc is empty");
        }
        int[] widths = new int[sources];
        float[][] enc = new float[sources][];
        float[][] dec = new float[sources][];
        float[][] bDec = new float[sources][];
        double[] scales = new double[sources];
        for (int s = 0; s < sources; s++) {
            long[] shape = c.shapes().get("W_dec." + s);
            if (shape.length != 2 || shape[0] != nLat) {
                throw MoescopeException.badInput(file, "W_dec." + s + " has shape " + java.util.Arrays.toString(shape)
                        + ", expected [" + nLat + ", d]");
            }
            int d = (int) shape[1];
            widths[s] = d;
            dec[s] = finite(file, "W_dec." + s, c.floats(file, "W_dec." + s));
            enc[s] = finite(file, "W_enc." + s, sized(file, "W_enc." + s, c.floats(file, "W_enc." + s),
                    (long) d * nLat));
            bDec[s] = finite(file, "b_dec." + s, sized(file, "b_dec." + s, c.floats(file, "b_dec." + s), d));
            float[] scale = sized(file, "input_scale." + s, c.floats(file, "input_scale." + s), 1);
            if (!(scale[0] > 0) || !Float.isFinite(scale[0])) {
                throw MoescopeException.badInput(file, "input_scale." + s + " is " + scale[0] + ", not a positive number");
            }
            scales[s] = scale[0];
        }
        finite(file, "b_enc", bEnc);
        float[] th = sized(file, "threshold", c.floats(file, "threshold"), 1);
        if (Float.isNaN(th[0])) {
            throw MoescopeException.badInput(file, "threshold is NaN");
        }
        return new CrosscoderWeights(file, nLat, widths, enc, dec, bDec, scales, bEnc, th[0], c.metadata());
    }

    private static float[] sized(Path file, String name, float[] v, long expected) {
        if (v.length != expected) {
            throw MoescopeException.badInput(file, name + " has " + v.length + " values, expected " + expected);
        }
        return v;
    }

    private static float[] finite(Path file, String name, float[] v) {
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw MoescopeException.badInput(file, name + " holds a non-finite value at index " + i);
            }
        }
        return v;
    }

    public Path file() {
        return file;
    }

    public int sources() {
        return widths.length;
    }

    public int latents() {
        return latents;
    }

    public int[] widths() {
        return widths.clone();
    }

    /** Source s's encoder, {@code d_s x F} row-major (shared with this object: do not modify). */
    public float[] encoder(int s) {
        return encoders[s];
    }

    /** Source s's decoder, {@code F x d_s} row-major (shared with this object: do not modify). */
    public float[] decoder(int s) {
        return decoders[s];
    }

    public float[] decoderBias(int s) {
        return decoderBiases[s];
    }

    public float[] encoderBias() {
        return encoderBias;
    }

    /** Multiply source s's raw activations by this before encoding. */
    public double inputScale(int s) {
        return inputScales[s];
    }

    /** The inference threshold θ, or a negative value when training never estimated it. */
    public double threshold() {
        return threshold;
    }

    /** Whether training estimated θ (it starts after the threshold start step). */
    public boolean hasThreshold() {
        return threshold >= 0;
    }

    /** The safetensors metadata ({@code format}, {@code provenance} as JSON). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Decoder row norms of source s, one per latent. */
    public double[] decoderNorms(int s) {
        return RelativeNorms.rowNorms(decoders[s], latents, widths[s]);
    }
}
