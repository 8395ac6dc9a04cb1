package dev.moescope.sae.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.moescope.core.Seeds;
import dev.moescope.core.djl.ScopedTrainer;
import dev.moescope.sae.dictionary.DecoderNorm;
import dev.moescope.sae.dictionary.ExternalGradients;
import dev.moescope.sae.dictionary.Parallel;
import dev.moescope.sae.dictionary.ResumableAdam;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The SAE's parameters, held by a {@link ScopedTrainer} (so updates never leak native memory), in the layout the
 * fast kernels want: {@code encoder} and {@code decoder} are {@code F x d} with one row per latent, so gathering an
 * active latent's row is one contiguous read. (SAELens's {@code W_enc} is the transpose of {@code encoder}.) A Java
 * mirror of the unit-norm decoder rows is kept in step with the parameter after each update.
 *
 * <p>Updates take gradients computed outside autograd (by a {@link StepKernel}): {@link #apply} hands them to the
 * trainer through {@link ExternalGradients} (a linear surrogate whose gradient is exactly the given one); the
 * optimizer update and the decoder constraint then run as for any autograd loss.
 *
 * <p>The decoder constraint runs after every update on the Java mirror of the rows: the SAE's unit norm
 * ({@link #UNIT_NORM}), or a crosscoder's free norms with its designated shared latents re-tied.
 */
public final class SaeModel implements AutoCloseable {

    public static final String ENCODER = "encoder";
    public static final String ENCODER_BIAS = "encoder_bias";
    public static final String DECODER = "decoder";
    public static final String DECODER_BIAS = "decoder_bias";

    private final ScopedTrainer trainer;
    private final ResumableAdam adam;
    private final Parallel parallel;
    private final int width;
    private final int latents;
    private final float[] decoderRows;
    private final DecoderConstraint constraint;
    private long renormNanos;

    /** Applied to the decoder rows ({@code latents x width}, in place) after every update. */
    @FunctionalInterface
    public interface DecoderConstraint {
        void apply(float[] rows, int latents, int width, Parallel parallel);
    }

    /** The SAE's constraint: every decoder row renormalised to unit length. */
    public static final DecoderConstraint UNIT_NORM = DecoderNorm::normalizeRows;

    private SaeModel(Engine engine, ResumableAdam adam, Parallel parallel, int width, int latents, float[] encoder,
                     float[] encoderBias, float[] decoder, float[] decoderBias, DecoderConstraint constraint) {
        this.constraint = constraint;
        this.trainer = new ScopedTrainer(engine, adam);
        this.adam = adam;
        this.parallel = parallel;
        this.width = width;
        this.latents = latents;
        this.decoderRows = decoder.clone();
        NDManager m = trainer.manager();
        trainer.addParameter(ENCODER, m.create(encoder, new Shape(latents, width)));
        trainer.addParameter(ENCODER_BIAS, m.create(encoderBias, new Shape(latents)));
        trainer.addParameter(DECODER, m.create(decoder, new Shape(latents, width)));
        trainer.addParameter(DECODER_BIAS, m.create(decoderBias, new Shape(width)));
        trainer.parameterHook(p -> renormalizeDecoder());
    }

    /**
     * Tied initialisation: random unit decoder rows (uniform entries, normalised), the encoder equal to the decoder
     * (W_enc = W_decᵀ in SAELens's layout), zero biases.
     */
    public static SaeModel initialise(Engine engine, ResumableAdam adam, Parallel parallel, int width, int latents,
                                      long seed) {
        SplittableRandom r = Seeds.random(seed, "sae init");
        float[] dec = new float[latents * width];
        for (int i = 0; i < dec.length; i++) {
            dec[i] = (float) (2 * r.nextDouble() - 1);
        }
        DecoderNorm.normalizeRows(dec, latents, width, parallel);
        return new SaeModel(engine, adam, parallel, width, latents, dec.clone(), new float[latents], dec,
                new float[width], UNIT_NORM);
    }

    /** An SAE (unit-norm decoder) with the given parameter values (a checkpoint's). */
    public static SaeModel of(Engine engine, ResumableAdam adam, Parallel parallel, int width, int latents,
                              float[] encoder, float[] encoderBias, float[] decoder, float[] decoderBias) {
        return of(engine, adam, parallel, width, latents, encoder, encoderBias, decoder, decoderBias, UNIT_NORM);
    }

    /**
     * A model with the given parameter values and decoder constraint ({@code null}: free decoder rows, as a
     * crosscoder without designated shared latents has).
     */
    public static SaeModel of(Engine engine, ResumableAdam adam, Parallel parallel, int width, int latents,
                              float[] encoder, float[] encoderBias, float[] decoder, float[] decoderBias,
                              DecoderConstraint constraint) {
        return new SaeModel(engine, adam, parallel, width, latents, encoder, encoderBias, decoder, decoderBias,
                constraint);
    }

    public int width() {
        return width;
    }

    public int latents() {
        return latents;
    }

    public Parallel parallel() {
        return parallel;
    }

    public NDManager manager() {
        return trainer.manager();
    }

    public ScopedTrainer trainer() {
        return trainer;
    }

    public ResumableAdam optimizer() {
        return adam;
    }

    public NDArray parameter(String name) {
        return trainer.parameter(name);
    }

    /** A copy of a parameter's values. */
    public float[] read(String name) {
        return trainer.parameter(name).toFloatArray();
    }

    /** A read-only view of a parameter's memory (valid until the next update). */
    public FloatBuffer view(String name) {
        return trainer.parameter(name).toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /** The decoder rows as of the last update (unit-norm for an SAE), {@code F x d}; do not modify. */
    public float[] decoderRows() {
        return decoderRows;
    }

    /**
     * Overwrites a parameter's values (outside any update; the decoder mirror follows). Used for data-driven
     * initialisation and by tests that put the model in a chosen state.
     */
    public void write(String name, float[] values) {
        trainer.parameter(name).set(values);
        if (name.equals(DECODER)) {
            System.arraycopy(values, 0, decoderRows, 0, values.length);
        }
    }

    /** Overwrites the decoder bias (data-driven initialisation). */
    public void setDecoderBias(float[] bias) {
        trainer.parameter(DECODER_BIAS).set(bias);
    }

    /**
     * One optimizer update with the given (already projected and clipped) gradients. The value returned by the
     * surrogate is not a loss and is ignored.
     */
    public void apply(Gradients g) {
        Map<String, float[]> grads = new LinkedHashMap<>();
        grads.put(ENCODER, g.encoder);
        grads.put(ENCODER_BIAS, g.encoderBias);
        grads.put(DECODER, g.decoder);
        grads.put(DECODER_BIAS, g.decoderBias);
        ExternalGradients.apply(trainer, grads);
    }

    /** Wall time spent on the decoder constraint (renormalising, re-tying) so far. */
    public long renormNanos() {
        return renormNanos;
    }

    private void renormalizeDecoder() {
        long t0 = System.nanoTime();
        NDArray dec = trainer.parameter(DECODER);
        view(DECODER).get(0, decoderRows, 0, decoderRows.length);
        if (constraint != null) {
            constraint.apply(decoderRows, latents, width, parallel);
            dec.set(FloatBuffer.wrap(decoderRows));
        }
        renormNanos += System.nanoTime() - t0;
    }

    @Override
    public void close() {
        trainer.close();
    }
}
