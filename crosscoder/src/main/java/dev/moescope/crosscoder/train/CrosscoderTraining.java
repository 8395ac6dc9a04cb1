package dev.moescope.crosscoder.train;

import ai.djl.engine.Engine;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.io.Safetensors;
import dev.moescope.core.progress.Progress;
import dev.moescope.crosscoder.data.PairedSource;
import dev.moescope.sae.dictionary.GeometricMedian;
import dev.moescope.sae.dictionary.InputNormalizer;
import dev.moescope.sae.dictionary.Parallel;
import dev.moescope.sae.train.SaeModel;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One crosscoder training run in progress, advanced a step at a time ({@link #step()}): estimates one input scale
 * per source (sae's {@link InputNormalizer}, so a source with larger activations does not dominate the loss or the
 * decoder norms), initialises each source's decoder bias to the geometric median of the first batch, then trains
 * step {@code t} (1-based) on the source's batch {@code t − 1}. Every random choice derives from the config's seed
 * and the source's own seed, so a run restored from a {@link CrosscoderCheckpoint} ({@link #resume}) continues
 * exactly as an uninterrupted one would, bit for bit.
 */
public final class CrosscoderTraining {

    private final PairedSource source;
    private final CrosscoderConfig config;
    private final Crosscoder model;
    private final double[] scales;
    private final int[] widths;

    private CrosscoderTraining(PairedSource source, CrosscoderConfig config, Crosscoder model, double[] scales) {
        this.source = source;
        this.config = config;
        this.model = model;
        this.scales = scales;
        this.widths = source.widths();
    }

    /** A trained crosscoder and what training measured. */
    public record Result(Crosscoder model, double[] inputScales, Crosscoder.StepStats last, double seconds) {
    }

    /** A fresh run: input scales from the first batches, a tied initialisation, decoder biases from batch 0. */
    public static CrosscoderTraining start(Engine engine, PairedSource source, CrosscoderConfig config,
                                           Parallel parallel) {
        int[] widths = source.widths();
        int nSrc = widths.length;
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
        try {
            CrosscoderTraining t = new CrosscoderTraining(source, config, model, scales);
            float[][] first = t.batch(0);
            for (int s = 0; s < nSrc; s++) {
                model.setDecoderBias(s, GeometricMedian.of(first[s], config.batchSize(), widths[s]));
            }
            return t;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Continues the run saved in {@code checkpointFile} with the options it was started with (schedule, penalties,
     * threshold start: what makes the continuation exact); only {@code config.steps()} is taken from the caller, so
     * a run can be extended. The dictionary's shape (latents, k, shared, batch) and the sources' widths must match.
     */
    public static CrosscoderTraining resume(Engine engine, PairedSource source, CrosscoderConfig config,
                                            Path checkpointFile, Parallel parallel) {
        CrosscoderCheckpoint.Loaded c = CrosscoderCheckpoint.read(checkpointFile);
        CrosscoderCheckpoint.State s = c.state();
        if (!java.util.Arrays.equals(s.widths(), source.widths())) {
            throw MoescopeException.badInput(checkpointFile, "width mismatch: the checkpoint was trained on widths "
                    + java.util.Arrays.toString(s.widths()) + ", the sources have "
                    + java.util.Arrays.toString(source.widths()));
        }
        CrosscoderConfig saved = s.config();
        if (saved.latents() != config.latents() || saved.k() != config.k() || saved.shared() != config.shared()
                || saved.batchSize() != config.batchSize()) {
            throw MoescopeException.usage("--resume: the checkpoint has --latents " + saved.latents() + " --k "
                    + saved.k() + " --shared " + saved.shared() + " --batch " + saved.batchSize() + "; got --latents "
                    + config.latents() + " --k " + config.k() + " --shared " + config.shared() + " --batch "
                    + config.batchSize());
        }
        if (s.step() >= config.steps()) {
            throw MoescopeException.usage("--resume: the checkpoint is at step " + s.step()
                    + ", nothing to do for --steps " + config.steps());
        }
        CrosscoderConfig effective = saved.withSteps(config.steps());
        Crosscoder model = Crosscoder.restore(engine, effective, s.widths(), parallel, c);
        return new CrosscoderTraining(source, effective, model, s.inputScales().clone());
    }

    /** Batch {@code index}, scaled, checked finite. */
    private float[][] batch(long index) {
        float[][] x = source.trainBatch(index, config.batchSize());
        for (int s = 0; s < widths.length; s++) {
            InputNormalizer.apply(x[s], config.batchSize() * widths[s], scales[s]);
            check(x[s], source.names().get(s), index);
        }
        return x;
    }

    /** Takes the next step and reports it. */
    public Crosscoder.StepStats step() {
        return model.step(batch(model.steps()), config.batchSize());
    }

    /** The run's options (on resume: the checkpoint's, with the requested step count). */
    public CrosscoderConfig config() {
        return config;
    }

    /** Steps taken so far. */
    public long stepsDone() {
        return model.steps();
    }

    public Crosscoder model() {
        return model;
    }

    /** The per-source input scales c_s (E‖c_s·x^s‖² = d_s). */
    public double[] inputScales() {
        return scales.clone();
    }

    /** Writes a checkpoint of the current state (atomically). */
    public void checkpoint(Path file) {
        Map<String, float[]> params = new LinkedHashMap<>();
        for (String p : new String[]{SaeModel.ENCODER, SaeModel.ENCODER_BIAS, SaeModel.DECODER,
                SaeModel.DECODER_BIAS}) {
            params.put(p, model.model().read(p));
        }
        CrosscoderCheckpoint.write(file, new CrosscoderCheckpoint.State(model.steps(), model.threshold(),
                scales.clone(), widths.clone(), config.latents(), config, source.describe(), null), params,
                model.model().optimizer().state(), model.deadLatents().state());
    }

    /** Held-out FVE (per source and pooled) on up to {@code maxTokens} rows the training batches never read. */
    public HeldOutEvaluation.Report evaluate(long maxTokens) {
        return HeldOutEvaluation.evaluate(model, source, scales, maxTokens);
    }

    /** Trains on {@code source} from scratch to {@code config.steps()}; the caller closes the returned model. */
    public static Result train(Engine engine, PairedSource source, CrosscoderConfig config, Parallel parallel) {
        long t0 = System.nanoTime();
        CrosscoderTraining t = start(engine, source, config, parallel);
        Crosscoder.StepStats last = null;
        try (Progress p = Progress.start("crosscoder train", config.steps(), "step")) {
            while (t.stepsDone() < config.steps()) {
                last = t.step();
                p.stepBy(1);
                if (t.stepsDone() % 50 == 1) {
                    p.message(String.format("loss %.4f l0 %.1f dead %d", last.loss(), last.l0(), last.dead()));
                }
            }
        } catch (RuntimeException e) {
            t.model.close();
            throw e;
        }
        return new Result(t.model, t.inputScales(), last, (System.nanoTime() - t0) / 1e9);
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
