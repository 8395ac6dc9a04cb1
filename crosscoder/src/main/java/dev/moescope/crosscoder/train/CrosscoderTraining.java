package dev.moescope.crosscoder.train;

import ai.djl.engine.Engine;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.io.Safetensors;
import dev.moescope.core.progress.Progress;
import dev.moescope.crosscoder.data.PairedSource;
import dev.moescope.sae.dictionary.GeometricMedian;
import dev.moescope.sae.dictionary.InputNormalizer;
import dev.moescope.sae.dictionary.Parallel;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The crosscoder training loop: estimates one input scale per source (sae's {@link InputNormalizer}, so a source
 * with larger activations does not dominate the loss or the decoder norms), initialises each source's decoder bias
 * to the geometric median of the first batch, then runs {@link Crosscoder#step} on batches 0, 1, 2, … of the
 * source. Every random choice derives from the config's seed and the source's own seed.
 */
public final class CrosscoderTraining {

    private CrosscoderTraining() {
    }

    /** A trained crosscoder and what training measured. */
    public record Result(Crosscoder model, double[] inputScales, Crosscoder.StepStats last, double seconds) {
    }

    /** Trains on {@code source}; the caller closes the returned model. */
    public static Result train(Engine engine, PairedSource source, CrosscoderConfig config, Parallel parallel) {
        int[] widths = source.widths();
        int nSrc = widths.length;
        long t0 = System.nanoTime();
        double[] scales = new double[nSrc];
        InputNormalizer[] norm = new InputNormalizer[nSrc];
        for (int s = 0; s < nSrc; s++) {
            norm[s] = new InputNormalizer();
        }
        for (int b = 0; b < config.normBatches(); b++) {
            float[][] x = source.trainBatch(b, config.batchSize());
            for (int s = 0; s < nSrc; s++) {
                norm[s].accumulate(x[s], config.batchSize(), widths[s]);
            }
        }
        for (int s = 0; s < nSrc; s++) {
            scales[s] = config.normBatches() == 0 ? 1.0 : norm[s].scale(widths[s]);
        }
        Crosscoder model = Crosscoder.initialise(engine, config, widths, parallel);
        Crosscoder.StepStats last = null;
        try (Progress p = Progress.start("crosscoder train", config.steps(), "step")) {
            for (long step = 0; step < config.steps(); step++) {
                float[][] x = source.trainBatch(step, config.batchSize());
                for (int s = 0; s < nSrc; s++) {
                    InputNormalizer.apply(x[s], config.batchSize() * widths[s], scales[s]);
                    check(x[s], source.names().get(s), step);
                    if (step == 0) {
                        model.setDecoderBias(s, GeometricMedian.of(x[s], config.batchSize(), widths[s]));
                    }
                }
                last = model.step(x, config.batchSize());
                p.stepBy(1);
                if (step % 50 == 0) {
                    p.message(String.format("loss %.4f l0 %.1f dead %d", last.loss(), last.l0(), last.dead()));
                }
            }
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return new Result(model, scales, last, (System.nanoTime() - t0) / 1e9);
    }

    private static void check(float[] x, String name, long step) {
        for (float v : x) {
            if (!Float.isFinite(v)) {
                throw MoescopeException.badInput(name + ": non-finite activation in training batch " + step);
            }
        }
    }

    /**
     * Writes the weights as safetensors: per source s {@code W_enc.s} ({@code d_s x F}, SAELens layout),
     * {@code W_dec.s} ({@code F x d_s}), {@code b_dec.s}, {@code input_scale.s}, and the shared {@code b_enc} and
     * {@code threshold}. Weights are in normalised units (multiply source s's raw activations by its input scale
     * first): folding the scales in would make relative decoder norms reflect activation scale, not features.
     */
    public static void save(Path file, Result result, Map<String, String> metadata) {
        Crosscoder m = result.model();
        int nLat = m.latents();
        int[] widths = m.widths();
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        for (int s = 0; s < widths.length; s++) {
            int d = widths[s];
            float[] enc = m.read(Crosscoder.encoder(s));
            float[] encT = new float[enc.length];
            for (int i = 0; i < nLat; i++) {
                for (int j = 0; j < d; j++) {
                    encT[j * nLat + i] = enc[i * d + j];
                }
            }
            t.put("W_enc." + s, Safetensors.Tensor.f32(encT, d, nLat));
            t.put("W_dec." + s, Safetensors.Tensor.f32(m.read(Crosscoder.decoder(s)), nLat, d));
            t.put("b_dec." + s, Safetensors.Tensor.f32(m.read(Crosscoder.decoderBias(s)), d));
            t.put("input_scale." + s, Safetensors.Tensor.f32(new float[]{(float) result.inputScales()[s]}, 1));
        }
        t.put("b_enc", Safetensors.Tensor.f32(m.read("encoder_bias"), nLat));
        t.put("threshold", Safetensors.Tensor.f32(new float[]{(float) m.threshold()}, 1));
        Safetensors.write(file, t, metadata);
    }
}
