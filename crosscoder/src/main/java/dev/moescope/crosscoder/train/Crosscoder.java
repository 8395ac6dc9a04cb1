package dev.moescope.crosscoder.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.moescope.core.Seeds;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.sae.dictionary.BatchTopK;
import dev.moescope.sae.dictionary.DeadLatents;
import dev.moescope.sae.dictionary.DecoderNorm;
import dev.moescope.sae.dictionary.DecoderNormPenalty;
import dev.moescope.sae.dictionary.InferenceThreshold;
import dev.moescope.sae.dictionary.LearningRateSchedule;
import dev.moescope.sae.dictionary.Parallel;
import dev.moescope.sae.dictionary.ResumableAdam;
import dev.moescope.sae.dictionary.SparseCodes;
import dev.moescope.sae.train.Gradients;
import dev.moescope.sae.train.PhaseTimes;
import dev.moescope.sae.train.SaeModel;
import dev.moescope.sae.train.SparseStep;
import dev.moescope.sae.train.StepObjective;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A BatchTopK crosscoder over S sources (Lindsey et al. 2024; the paper code's {@code BatchTopKCrossCoder}):
 * per-source encoders {@code E^s} and decoders {@code D^s} ({@code F x d_s}, one row per latent), one code per
 * token,
 * <pre>
 *   pre = Σ_s x^s·E^sᵀ + b_enc                 (no b_dec subtracted, as in the reference)
 *   f   = pre at the k·B largest positive entries of pre ⊙ w over the batch, w_j = Σ_s ‖D^s_j‖ (or another weighting)
 *   x̂^s = f·D^s + b_dec^s
 *   L   = Σ_s mean_b ‖x^s − x̂^s‖² + α·AuxK + λ_f·mean_b Σ_{i≥N} f_i Σ_s‖D^s_i‖ + λ_s·mean_b Σ_{i<N} f_i ‖D̄_i‖
 * </pre>
 *
 * <p>Stored and trained as one {@link SaeModel} whose rows concatenate the sources ({@code [E^1 | … | E^S]},
 * {@code [D^1 | … | D^S]}, width {@code Σ d_s}): on concatenated inputs the encoder is one matmul and every term of
 * the loss sums over the concatenation, so the step is sae's {@link SparseStep} with a crosscoder
 * {@link StepObjective} (no input centring, decoder-norm-weighted selection and AuxK ranking, sae's
 * {@link DecoderNormPenalty}); sae's {@link BatchTopK}, AuxK, {@link DeadLatents}, {@link InferenceThreshold} and
 * {@link ResumableAdam} do the rest. The first {@code shared} latents are designated shared: their decoder rows are
 * identical in every source (initialised equal and re-tied by averaging after every update, as the paper code's
 * {@code _enforce_shared_weights}), so their relative decoder norm is exactly 0.5 and their decoder cosine exactly
 * 1. Decoder norms stay free (no unit-norm constraint): they carry the diffing signal.
 */
public final class Crosscoder implements AutoCloseable {

    static final String ENCODER_BIAS = "encoder_bias";

    private final CrosscoderConfig config;
    private final int[] widths;
    private final int[] offsets;
    private final int width;
    private final SaeModel model;
    private final Parallel parallel;
    private final SparseStep sparse = new SparseStep();
    private final DenseCrosscoderStep dense;
    private final DecoderNormPenalty penalty;
    private final DeadLatents deadLatents;
    private final InferenceThreshold threshold;
    private final PhaseTimes times = new PhaseTimes();
    private long step;

    /**
     * What one training step measured.
     *
     * @param loss           total loss
     * @param reconstruction mean ‖x^s − x̂^s‖² per source (normalised units)
     * @param auxk           normalised AuxK loss (before α)
     * @param l0             mean active latents per token in the batch
     * @param dead           dead latents
     * @param minSelected    smallest selected ranking value (the threshold statistic)
     * @param sparsity       the decoder-norm L1 term (with its λs)
     * @param gradNorm       global gradient norm before clipping
     * @param lr             learning rate used
     */
    public record StepStats(double loss, double[] reconstruction, double auxk, double l0, int dead,
                            float minSelected, double sparsity, double gradNorm, double lr) {
    }

    private Crosscoder(Engine engine, CrosscoderConfig config, int[] widths, Parallel parallel, float[] encoder,
                       float[] encoderBias, float[] decoder, float[] decoderBias, ResumableAdam adam) {
        this.config = config;
        this.widths = widths.clone();
        this.offsets = new int[widths.length + 1];
        for (int s = 0; s < widths.length; s++) {
            offsets[s + 1] = offsets[s] + widths[s];
        }
        this.width = offsets[widths.length];
        this.parallel = parallel;
        SaeModel.DecoderConstraint tie = config.shared() > 0 ? this::tieSharedDecoders : null;
        this.model = SaeModel.of(engine, adam, parallel, width, config.latents(), encoder, encoderBias, decoder,
                decoderBias, tie);
        this.dense = new DenseCrosscoderStep(engine);
        this.penalty = new DecoderNormPenalty(widths, config.shared(), config.sparsityPenalty(),
                config.sharedSparsityPenalty());
        this.deadLatents = new DeadLatents(config.latents(), config.deadTokens());
        this.threshold = new InferenceThreshold(config.thresholdBeta(), config.thresholdStart());
    }

    static ResumableAdam newAdam(CrosscoderConfig config) {
        LearningRateSchedule schedule = new LearningRateSchedule(config.lr(), config.warmupSteps(), -1,
                config.steps());
        return new ResumableAdam(schedule, 0.9f, 0.999f, 1e-8f);
    }

    /**
     * A fresh crosscoder: per source, random unit decoder rows and the encoder equal to the decoder (the reference's
     * {@code init_with_transpose}); designated shared latents start with the same decoder row in every source.
     * Sources of different widths cannot share decoder rows: with {@code shared > 0} that is bad input.
     */
    public static Crosscoder initialise(Engine engine, CrosscoderConfig config, int[] widths, Parallel parallel) {
        checkShape(config, widths);
        int nLat = config.latents();
        int total = Arrays.stream(widths).sum();
        float[] dec = new float[nLat * total];
        float[] first = null;
        int offset = 0;
        for (int s = 0; s < widths.length; s++) {
            int d = widths[s];
            SplittableRandom r = Seeds.random(config.seed(), "crosscoder init source " + s);
            float[] part = new float[nLat * d];
            for (int i = 0; i < part.length; i++) {
                part[i] = (float) (2 * r.nextDouble() - 1);
            }
            DecoderNorm.normalizeRows(part, nLat, d, parallel);
            if (s == 0) {
                first = part;
            } else if (config.shared() > 0) {
                System.arraycopy(first, 0, part, 0, config.shared() * d);
            }
            for (int i = 0; i < nLat; i++) {
                System.arraycopy(part, i * d, dec, i * total + offset, d);
            }
            offset += d;
        }
        return new Crosscoder(engine, config, widths, parallel, dec.clone(), new float[nLat], dec,
                new float[total], newAdam(config));
    }

    /** A crosscoder with a checkpoint's parameters, optimizer state, dead counters, θ and step. */
    static Crosscoder restore(Engine engine, CrosscoderConfig config, int[] widths, Parallel parallel,
                              CrosscoderCheckpoint.Loaded c) {
        checkShape(config, widths);
        ResumableAdam adam = newAdam(config);
        adam.restore(c.tensors().adam());
        var p = c.tensors().parameters();
        Crosscoder cc = new Crosscoder(engine, config, widths, parallel, p.get(SaeModel.ENCODER),
                p.get(SaeModel.ENCODER_BIAS), p.get(SaeModel.DECODER), p.get(SaeModel.DECODER_BIAS), adam);
        cc.deadLatents.restore(c.tensors().deadSince());
        cc.threshold.restore(c.state().theta());
        cc.step = c.state().step();
        return cc;
    }

    private static void checkShape(CrosscoderConfig config, int[] widths) {
        if (widths.length < 2) {
            throw MoescopeException.usage("a crosscoder needs at least two sources, got " + widths.length);
        }
        if (config.shared() > 0) {
            for (int w : widths) {
                if (w != widths[0]) {
                    throw MoescopeException.badInput("designated shared latents need sources of equal width, got "
                            + Arrays.toString(widths));
                }
            }
        }
    }

    static String encoder(int s) {
        return "encoder." + s;
    }

    static String decoder(int s) {
        return "decoder." + s;
    }

    static String decoderBias(int s) {
        return "decoder_bias." + s;
    }

    public int sources() {
        return widths.length;
    }

    public int[] widths() {
        return widths.clone();
    }

    public int latents() {
        return config.latents();
    }

    public CrosscoderConfig config() {
        return config;
    }

    /** Steps taken so far. */
    public long steps() {
        return step;
    }

    /** The underlying concatenated-rows model (parameters, optimizer). */
    SaeModel model() {
        return model;
    }

    DeadLatents deadLatents() {
        return deadLatents;
    }

    /** Sets source {@code s}'s decoder bias (the geometric median of the first batch, say). */
    public void setDecoderBias(int s, float[] bias) {
        float[] all = model.read(SaeModel.DECODER_BIAS);
        System.arraycopy(bias, 0, all, offsets[s], widths[s]);
        model.setDecoderBias(all);
    }

    /**
     * A copy of a parameter's values by per-source name: {@code encoder.s} and {@code decoder.s}
     * ({@code F x d_s}), {@code decoder_bias.s} ({@code d_s}), {@code encoder_bias} ({@code F}).
     */
    public float[] read(String name) {
        if (name.equals(ENCODER_BIAS)) {
            return model.read(SaeModel.ENCODER_BIAS);
        }
        int dot = name.lastIndexOf('.');
        String kind = dot < 0 ? name : name.substring(0, dot);
        int s;
        try {
            s = Integer.parseInt(name.substring(dot + 1));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("no crosscoder parameter " + name);
        }
        if (s < 0 || s >= widths.length) {
            throw new IllegalArgumentException("no crosscoder parameter " + name);
        }
        return switch (kind) {
            case "encoder" -> slice(model.read(SaeModel.ENCODER), s);
            case "decoder" -> slice(model.read(SaeModel.DECODER), s);
            case "decoder_bias" -> Arrays.copyOfRange(model.read(SaeModel.DECODER_BIAS), offsets[s], offsets[s + 1]);
            default -> throw new IllegalArgumentException("no crosscoder parameter " + name);
        };
    }

    /** Source {@code s}'s columns of a {@code F x Σd} matrix, as {@code F x d_s}. */
    private float[] slice(float[] rowsAll, int s) {
        int nLat = config.latents();
        int d = widths[s];
        float[] out = new float[nLat * d];
        for (int i = 0; i < nLat; i++) {
            System.arraycopy(rowsAll, i * width + offsets[s], out, i * d, d);
        }
        return out;
    }

    /** Source {@code s}'s decoder, {@code F x d_s} row-major. */
    public float[] decoderRows(int s) {
        return read(decoder(s));
    }

    /** Every parameter name, per source then the shared encoder bias. */
    public Set<String> parameterNames() {
        Set<String> n = new LinkedHashSet<>();
        for (int s = 0; s < widths.length; s++) {
            n.add(encoder(s));
            n.add(decoder(s));
            n.add(decoderBias(s));
        }
        n.add(ENCODER_BIAS);
        return n;
    }

    /** θ of the inference threshold, or -1 while not yet estimated. */
    public double threshold() {
        return threshold.value();
    }

    /** Share of latents currently dead. */
    public double deadFraction() {
        return deadLatents.deadFraction();
    }

    /** The per-latent selection weights from the current decoders, or {@code null} for {@link SelectionWeighting#NONE}. */
    public float[] selectionWeights() {
        if (config.selection() == SelectionWeighting.NONE) {
            return null;
        }
        int nLat = config.latents();
        float[] dec = model.decoderRows();
        float[] w = new float[nLat];
        parallel.forRange(nLat, (lo, hi) -> {
            double[] norms = new double[widths.length];
            for (int i = lo; i < hi; i++) {
                for (int s = 0; s < widths.length; s++) {
                    double q = 0;
                    for (int j = i * width + offsets[s]; j < i * width + offsets[s + 1]; j++) {
                        q += (double) dec[j] * dec[j];
                    }
                    norms[s] = Math.sqrt(q);
                }
                w[i] = config.selection().weight(norms);
            }
        });
        return w;
    }

    /** Rows of every source side by side: row b is {@code [x^1_b | … | x^S_b]}. */
    float[] concatenate(float[][] x, int rows) {
        float[] out = new float[rows * width];
        parallel.forRange(rows, (lo, hi) -> {
            for (int b = lo; b < hi; b++) {
                for (int s = 0; s < widths.length; s++) {
                    System.arraycopy(x[s], b * widths[s], out, b * width + offsets[s], widths[s]);
                }
            }
        });
        return out;
    }

    /** The objective of the current step (selection weights follow the current decoder norms). */
    StepObjective objective() {
        return new StepObjective(config.k(), config.auxkAlpha(), config.effectiveKAux(widths), false,
                selectionWeights(), penalty.active() ? penalty : null);
    }

    /** Loss and raw gradients of one step on concatenated rows, by the configured kernel; updates the dead counters. */
    Gradients gradients(float[] xs, int rows) {
        StepObjective objective = objective();
        return config.kernel() == CrosscoderConfig.Kernel.SPARSE
                ? sparse.compute(model, xs, rows, deadLatents, objective)
                : dense.compute(model, xs, rows, deadLatents, objective, widths, config.shared(),
                        config.sparsityPenalty(), config.sharedSparsityPenalty());
    }

    /** One optimizer step on a batch ({@code x[s]} is source s's {@code rows x d_s} rows, already normalised). */
    public StepStats step(float[][] x, int rows) {
        times.start();
        float[] xs = concatenate(x, rows);
        times.mark("concatenate sources");
        Gradients g = gradients(xs, rows);
        times.mark("kernel");
        double[] rec = perSource(g.residual, rows);
        double norm = g.norm();
        if (config.gradClip() > 0 && norm > config.gradClip()) {
            g.scale((float) (config.gradClip() / norm));
        }
        times.mark("per-source loss + clip");
        double lr = model.optimizer().currentLearningRate(SaeModel.ENCODER);
        long adam0 = model.optimizer().nanos();
        long tie0 = model.renormNanos();
        model.apply(g);
        times.mark("update: surrogate gradient + backward");
        times.move("update: surrogate gradient + backward", "update: Adam", model.optimizer().nanos() - adam0);
        times.move("update: surrogate gradient + backward", "update: re-tie shared decoders",
                model.renormNanos() - tie0);
        step++;
        threshold.observe(step, g.minSelected);
        StepStats stats = new StepStats(g.loss, rec, g.auxk, g.l0, g.dead, g.minSelected, g.sparsity, norm, lr);
        if (config.kernel() == CrosscoderConfig.Kernel.SPARSE) {
            sparse.recycle(g);
        }
        if (!Double.isFinite(g.loss)) {
            throw MoescopeException.failure("training diverged at step " + step + " (loss " + g.loss
                    + "); try a lower --lr", null);
        }
        return stats;
    }

    /** Mean over rows of each source's squared residual. */
    private double[] perSource(float[] residual, int rows) {
        double[] rec = new double[widths.length];
        for (int b = 0; b < rows; b++) {
            for (int s = 0; s < widths.length; s++) {
                double q = 0;
                for (int j = b * width + offsets[s]; j < b * width + offsets[s + 1]; j++) {
                    q += (double) residual[j] * residual[j];
                }
                rec[s] += q;
            }
        }
        for (int s = 0; s < widths.length; s++) {
            rec[s] /= rows;
        }
        return rec;
    }

    /** The sparse step's time per phase (for the benchmark breakdown). */
    public PhaseTimes kernelTimes() {
        return sparse.times();
    }

    /** Wall time per phase of {@link #step} (the kernel's own breakdown is {@link #kernelTimes()}). */
    public PhaseTimes times() {
        return times;
    }

    /**
     * Encodes and reconstructs concatenated rows without training: batch top-k with the training selection, or,
     * with {@code useThreshold}, the inference threshold {@code pre·w > θ} (no batch dependence). Returns the
     * reconstruction {@code x̂} ({@code rows x Σd}) and counts firings into {@code firedCounts}; the
     * active-entry count is returned in {@code nnzOut[0]}.
     */
    float[] reconstruct(float[] xs, int rows, boolean useThreshold, long[] firedCounts, long[] nnzOut) {
        int nLat = config.latents();
        float[] weights = selectionWeights();
        SparseCodes codes;
        try (NDScope scope = new NDScope()) {
            NDArray x = model.manager().create(xs, new Shape(rows, width));
            NDArray pre = x.matMul(model.parameter(SaeModel.ENCODER).stopGradient().transpose())
                    .addi(model.parameter(SaeModel.ENCODER_BIAS).stopGradient());
            FloatBuffer view = pre.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
            codes = useThreshold ? thresholdCodes(view, rows, nLat, weights, (float) threshold.value())
                    : BatchTopK.select(view, rows, nLat, config.k() * rows, weights, parallel).codes();
        }
        float[] dec = model.decoderRows();
        float[] decB = model.read(SaeModel.DECODER_BIAS);
        float[] out = new float[rows * width];
        parallel.forRange(rows, (lo, hi) -> {
            for (int b = lo; b < hi; b++) {
                int o = b * width;
                System.arraycopy(decB, 0, out, o, width);
                for (int p = codes.rowPtr[b]; p < codes.rowPtr[b + 1]; p++) {
                    float f = codes.vals[p];
                    int w = codes.cols[p] * width;
                    for (int j = 0; j < width; j++) {
                        out[o + j] += f * dec[w + j];
                    }
                }
            }
        });
        for (int p = 0; p < codes.nnz(); p++) {
            firedCounts[codes.cols[p]]++;
        }
        nnzOut[0] = codes.nnz();
        return out;
    }

    /** {@code f = pre · 1[pre·w > θ]} (CSR), the BatchTopK inference rule with the crosscoder's rank weighting. */
    private static SparseCodes thresholdCodes(FloatBuffer pre, int rows, int nLat, float[] weights, float theta) {
        int[] rowPtr = new int[rows + 1];
        int[] cols = new int[Math.max(16, rows * 8)];
        float[] vals = new float[cols.length];
        float[] row = new float[nLat];
        int n = 0;
        for (int b = 0; b < rows; b++) {
            pre.get(b * nLat, row, 0, nLat);
            for (int j = 0; j < nLat; j++) {
                float v = row[j];
                if (v > 0 && (weights == null ? v : v * weights[j]) > theta) {
                    if (n == cols.length) {
                        cols = Arrays.copyOf(cols, n * 2);
                        vals = Arrays.copyOf(vals, n * 2);
                    }
                    cols[n] = j;
                    vals[n++] = v;
                }
            }
            rowPtr[b + 1] = n;
        }
        return new SparseCodes(rows, nLat, rowPtr, Arrays.copyOf(cols, n), Arrays.copyOf(vals, n));
    }

    /** Re-ties the designated shared latents' decoder rows: each source's segment becomes the mean over sources. */
    private void tieSharedDecoders(float[] rows, int latents, int rowWidth, Parallel par) {
        int seg = widths[0];
        int nSrc = widths.length;
        par.forRange(config.shared(), (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                int o = i * rowWidth;
                for (int j = 0; j < seg; j++) {
                    float m = 0;
                    for (int s = 0; s < nSrc; s++) {
                        m += rows[o + s * seg + j];
                    }
                    m /= nSrc;
                    for (int s = 0; s < nSrc; s++) {
                        rows[o + s * seg + j] = m;
                    }
                }
            }
        });
    }

    @Override
    public void close() {
        model.close();
    }
}
