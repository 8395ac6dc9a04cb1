package dev.moescope.sae.train;

import ai.djl.engine.Engine;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.sae.data.ActivationBatch;
import dev.moescope.sae.data.ActivationSource;
import dev.moescope.sae.data.BatchChecks;
import dev.moescope.sae.dictionary.DeadLatents;
import dev.moescope.sae.dictionary.DecoderNorm;
import dev.moescope.sae.dictionary.GeometricMedian;
import dev.moescope.sae.dictionary.InferenceThreshold;
import dev.moescope.sae.dictionary.InputNormalizer;
import dev.moescope.sae.dictionary.Parallel;
import dev.moescope.sae.dictionary.ResumableAdam;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One BatchTopK SAE training run in progress: the model, the optimizer, the dead-latent counters, the inference
 * threshold and the input scale, advanced one step at a time by {@link #step()}. Step {@code t} (1-based) trains on
 * the source's training batch {@code t − 1}, so a run restored from a {@link Checkpoint} continues exactly as an
 * uninterrupted one would.
 *
 * <p>Per step: read and check the batch (NaN/Inf → one-line error naming the row, or skipped with
 * {@code skipBadRows}), scale it, compute the gradients with the chosen {@link StepKernel}, project the decoder
 * gradient onto the tangent of the unit sphere, clip the global gradient norm, update with Adam (warm-up/decay
 * schedule), renormalise the decoder rows, and feed the threshold EMA.
 */
public final class SaeTraining implements AutoCloseable {

    private final ActivationSource source;
    private final SaeConfig config;
    private final SaeModel model;
    private final StepKernel kernel;
    private final DeadLatents dead;
    private final InferenceThreshold threshold;
    private final double scale;
    private final Parallel parallel;
    private final PhaseTimes times = new PhaseTimes();
    private long step;

    private SaeTraining(ActivationSource source, SaeConfig config, SaeModel model, StepKernel kernel,
                        DeadLatents dead, InferenceThreshold threshold, double scale, Parallel parallel, long step) {
        this.source = source;
        this.config = config;
        this.model = model;
        this.kernel = kernel;
        this.dead = dead;
        this.threshold = threshold;
        this.scale = scale;
        this.parallel = parallel;
        this.step = step;
    }

    /** A fresh run: estimates the input scale, initialises the model (tied) and the decoder bias from data. */
    public static SaeTraining start(Engine engine, ActivationSource source, SaeConfig config, long seed, int threads) {
        checkSize(source, config);
        int d = source.width();
        Parallel par = new Parallel(threads);
        double scale = 1.0;
        if (config.normalize()) {
            InputNormalizer n = new InputNormalizer();
            for (int i = 0; i < config.normBatches(); i++) {
                ActivationBatch b = BatchChecks.finite(source.trainBatch(i, config.batchSize()), source.name(),
                        config.skipBadRows());
                n.accumulate(b.data(), b.rows(), d);
            }
            scale = n.scale(d);
        }
        ResumableAdam adam = newAdam(config);
        SaeModel model = SaeModel.initialise(engine, adam, par, d, config.latents(), seed);
        ActivationBatch first = BatchChecks.finite(source.trainBatch(0, config.batchSize()), source.name(),
                config.skipBadRows());
        float[] x = first.data().clone();
        InputNormalizer.apply(x, first.rows() * d, scale);
        float[] bias = switch (config.biasInit()) {
            case MEDIAN -> GeometricMedian.of(x, first.rows(), d);
            case MEAN -> GeometricMedian.mean(x, first.rows(), d);
            case ZERO -> new float[d];
        };
        model.setDecoderBias(bias);
        return new SaeTraining(source, config, model, kernel(engine, config), new DeadLatents(config.latents(),
                config.deadTokens()), new InferenceThreshold(config.thresholdBeta(), config.thresholdStart()), scale,
                par, 0);
    }

    /** Continues the run saved in {@code checkpointFile}; its shape must match {@code config} and the source. */
    public static SaeTraining resume(Engine engine, ActivationSource source, SaeConfig config, Path checkpointFile,
                                     int threads) {
        Checkpoint.Loaded c = Checkpoint.read(checkpointFile);
        Checkpoint.State s = c.state();
        if (s.width() != source.width()) {
            throw MoescopeException.badInput(checkpointFile, "width mismatch: the checkpoint was trained on width "
                    + s.width() + ", " + source.name() + " has width " + source.width());
        }
        if (s.latents() != config.latents() || s.config().k() != config.k()
                || s.config().batchSize() != config.batchSize()) {
            throw MoescopeException.usage("--resume: the checkpoint has --latents " + s.latents() + " --k "
                    + s.config().k() + " --batch " + s.config().batchSize() + "; got --latents " + config.latents()
                    + " --k " + config.k() + " --batch " + config.batchSize());
        }
        if (s.step() >= config.steps()) {
            throw MoescopeException.usage("--resume: the checkpoint is at step " + s.step()
                    + ", nothing to do for --steps " + config.steps());
        }
        checkSize(source, config);
        Parallel par = new Parallel(threads);
        ResumableAdam adam = newAdam(config);
        adam.restore(c.adam());
        SaeModel model = SaeModel.of(engine, adam, par, s.width(), s.latents(), c.parameters().get(SaeModel.ENCODER),
                c.parameters().get(SaeModel.ENCODER_BIAS), c.parameters().get(SaeModel.DECODER),
                c.parameters().get(SaeModel.DECODER_BIAS));
        DeadLatents dead = new DeadLatents(config.latents(), config.deadTokens());
        dead.restore(c.deadSince());
        InferenceThreshold th = new InferenceThreshold(config.thresholdBeta(), config.thresholdStart());
        th.restore(s.theta());
        return new SaeTraining(source, config, model, kernel(engine, config), dead, th, s.scale(), par, s.step());
    }

    private static void checkSize(ActivationSource source, SaeConfig config) {
        if (source.trainRows() >= 0 && source.trainRows() < config.batchSize()) {
            throw MoescopeException.badInput(source.name() + ": too small: " + source.trainRows()
                    + " training rows, fewer than one batch of " + config.batchSize());
        }
        if (config.k() >= config.latents()) {
            throw MoescopeException.usage("k must be below --latents " + config.latents() + ", got " + config.k());
        }
    }

    private static ResumableAdam newAdam(SaeConfig config) {
        return new ResumableAdam(config.schedule(), (float) config.beta1(), (float) config.beta2(),
                (float) config.epsilon());
    }

    private static StepKernel kernel(Engine engine, SaeConfig config) {
        return config.kernel() == SaeConfig.Kernel.SPARSE ? new SparseStep() : new DenseReferenceStep(engine);
    }

    /** Takes the next step and reports it. */
    public StepStats step() {
        times.start();
        ActivationBatch b = BatchChecks.finite(source.trainBatch(step, config.batchSize()), source.name(),
                config.skipBadRows());
        if (b.rows() == 0) {
            throw MoescopeException.badInput(source.name() + ": every row of training batch " + step
                    + " has NaN or infinite values");
        }
        int d = model.width();
        float[] x = b.data().length == b.rows() * d ? b.data() : java.util.Arrays.copyOf(b.data(), b.rows() * d);
        InputNormalizer.apply(x, b.rows() * d, scale);
        double lr = model.optimizer().currentLearningRate(SaeModel.ENCODER);
        times.mark("data");
        Gradients g = kernel.compute(model, x, b.rows(), dead, config);
        times.mark("kernel");
        double norm = postProcess(g);
        times.mark("project + clip");
        long adam0 = model.optimizer().nanos();
        long renorm0 = model.renormNanos();
        model.apply(g);
        long adam = model.optimizer().nanos() - adam0;
        long renorm = model.renormNanos() - renorm0;
        times.mark("update: surrogate gradient + backward");
        times.move("update: surrogate gradient + backward", "update: Adam", adam);
        times.move("update: surrogate gradient + backward", "update: decoder renorm", renorm);
        step++;
        threshold.observe(step, g.minSelected);
        if (kernel instanceof SparseStep s) {
            s.recycle(g);
        }
        if (!Double.isFinite(g.loss)) {
            throw MoescopeException.failure("training diverged at step " + step + " (loss " + g.loss
                    + "); try a lower --lr", null);
        }
        return new StepStats(step, g.loss, g.reconstruction, g.auxk, g.l0, (double) g.dead / config.latents(), norm,
                lr, threshold.value(), b.rows());
    }

    /** Decoder-gradient projection and global-norm clipping; returns the norm before clipping. */
    double postProcess(Gradients g) {
        DecoderNorm.projectGradient(model.decoderRows(), g.decoder, model.latents(), model.width(), parallel);
        double norm = g.norm();
        if (config.gradClip() > 0 && norm > config.gradClip()) {
            g.scale((float) (config.gradClip() / norm));
        }
        return norm;
    }

    /** Writes a checkpoint of the current state. */
    public void checkpoint(Path file) {
        Map<String, float[]> params = new LinkedHashMap<>();
        for (String p : new String[]{SaeModel.ENCODER, SaeModel.ENCODER_BIAS, SaeModel.DECODER,
                SaeModel.DECODER_BIAS}) {
            params.put(p, model.read(p));
        }
        Checkpoint.write(file, new Checkpoint.State(step, threshold.value(), scale, model.width(), model.latents(),
                config, source.describe(), null), params, model.optimizer().state(), dead.state());
    }

    /** Steps taken so far. */
    public long stepsDone() {
        return step;
    }

    public SaeModel model() {
        return model;
    }

    public SaeConfig config() {
        return config;
    }

    public DeadLatents dead() {
        return dead;
    }

    public InferenceThreshold threshold() {
        return threshold;
    }

    /** The input scale c (E‖c·x‖² = d). */
    public double scale() {
        return scale;
    }

    /** Wall time per phase of {@link #step()} (the kernel's own breakdown is in {@link SparseStep#times()}). */
    public PhaseTimes times() {
        return times;
    }

    public StepKernel kernel() {
        return kernel;
    }

    public ActivationSource source() {
        return source;
    }

    @Override
    public void close() {
        kernel.close();
        model.close();
        parallel.close();
    }
}
