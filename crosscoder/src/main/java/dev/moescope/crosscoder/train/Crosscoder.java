package dev.moescope.crosscoder.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.moescope.core.Seeds;
import dev.moescope.core.djl.ScopedTrainer;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.sae.dictionary.AuxK;
import dev.moescope.sae.dictionary.BatchTopK;
import dev.moescope.sae.dictionary.DeadLatents;
import dev.moescope.sae.dictionary.DecoderNorm;
import dev.moescope.sae.dictionary.InferenceThreshold;
import dev.moescope.sae.dictionary.LearningRateSchedule;
import dev.moescope.sae.dictionary.Parallel;
import dev.moescope.sae.dictionary.ResumableAdam;
import dev.moescope.sae.dictionary.SparseCodes;

import java.nio.FloatBuffer;
import java.util.SplittableRandom;

/**
 * A BatchTopK crosscoder over S sources (Lindsey et al. 2024; the paper code's {@code BatchTopKCrossCoder}):
 * per-source encoders {@code E^s} and decoders {@code D^s} ({@code F x d_s}, one row per latent), one code per
 * token,
 * <pre>
 *   pre = ReLU(Σ_s x^s·E^sᵀ + b_enc)          (no b_dec subtracted, as in the reference)
 *   f   = pre at the k·B largest entries of pre ⊙ w over the batch, w_j = Σ_s ‖D^s_j‖ (or another weighting)
 *   x̂^s = f·D^s + b_dec^s
 *   L   = Σ_s mean_b ‖x^s − x̂^s‖² + α·AuxK + λ_f·mean_b Σ_{i≥N} f_i Σ_s‖D^s_i‖ + λ_s·mean_b Σ_{i<N} f_i ‖D_i‖
 * </pre>
 * Selection, AuxK, dead-latent tracking and the threshold are the {@code sae} module's
 * ({@link BatchTopK} with a per-latent rank scale, {@link AuxK}, {@link DeadLatents}, {@link InferenceThreshold});
 * parameters and Adam live in core's {@link ScopedTrainer} with sae's {@link ResumableAdam}. The first
 * {@code shared} latents are designated shared: their decoder rows are identical in every source (initialised equal
 * and re-tied by averaging after every update, as the paper code's {@code _enforce_shared_weights}), so their
 * relative decoder norm is exactly 0.5 and their decoder cosine exactly 1. Decoder norms stay free (no unit-norm
 * constraint): they carry the diffing signal.
 *
 * <p>This step uses DJL autograd for the dense parts (encoder, decoder, their gradients); the SAE's hand-written
 * sparse kernel is not yet generalised to several sources.
 */
public final class Crosscoder implements AutoCloseable {

    private final CrosscoderConfig config;
    private final int[] widths;
    private final ScopedTrainer trainer;
    private final Parallel parallel;
    private final DeadLatents deadLatents;
    private final InferenceThreshold threshold;

    /** What one training step measured. */
    public record StepStats(double loss, double[] reconstruction, double auxk, double l0, int dead,
                            float minSelected) {
    }

    private Crosscoder(Engine engine, CrosscoderConfig config, int[] widths, Parallel parallel) {
        this.config = config;
        this.widths = widths.clone();
        this.parallel = parallel;
        LearningRateSchedule schedule = new LearningRateSchedule(config.lr(), config.warmupSteps(), -1,
                config.steps());
        this.trainer = new ScopedTrainer(engine, new ResumableAdam(schedule, 0.9f, 0.999f, 1e-8f));
        this.deadLatents = new DeadLatents(config.latents(), config.deadTokens());
        this.threshold = new InferenceThreshold(config.thresholdBeta(), config.thresholdStart());
        if (config.shared() > 0) {
            trainer.parameterHook(p -> tieSharedDecoders());
        }
    }

    /**
     * A fresh crosscoder: per source, random unit decoder rows and the encoder equal to the decoder (the reference's
     * {@code init_with_transpose}); designated shared latents start with the same decoder row in every source.
     * Sources of different widths cannot share decoder rows: with {@code shared > 0} that is bad input.
     */
    public static Crosscoder initialise(Engine engine, CrosscoderConfig config, int[] widths, Parallel parallel) {
        if (widths.length < 2) {
            throw MoescopeException.usage("a crosscoder needs at least two sources, got " + widths.length);
        }
        if (config.shared() > 0) {
            for (int w : widths) {
                if (w != widths[0]) {
                    throw MoescopeException.badInput("designated shared latents need sources of equal width, got "
                            + java.util.Arrays.toString(widths));
                }
            }
        }
        Crosscoder c = new Crosscoder(engine, config, widths, parallel);
        int nLat = config.latents();
        NDManager m = c.trainer.manager();
        float[] first = null;
        for (int s = 0; s < widths.length; s++) {
            int d = widths[s];
            SplittableRandom r = Seeds.random(config.seed(), "crosscoder init source " + s);
            float[] dec = new float[nLat * d];
            for (int i = 0; i < dec.length; i++) {
                dec[i] = (float) (2 * r.nextDouble() - 1);
            }
            DecoderNorm.normalizeRows(dec, nLat, d, parallel);
            if (s == 0) {
                first = dec;
            } else if (config.shared() > 0) {
                System.arraycopy(first, 0, dec, 0, config.shared() * d);
            }
            c.trainer.addParameter(encoder(s), m.create(dec.clone(), new Shape(nLat, d)));
            c.trainer.addParameter(decoder(s), m.create(dec, new Shape(nLat, d)));
            c.trainer.addParameter(decoderBias(s), m.create(new float[d], new Shape(d)));
        }
        c.trainer.addParameter("encoder_bias", m.create(new float[nLat], new Shape(nLat)));
        return c;
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

    /** Sets source {@code s}'s decoder bias (the geometric median of the first batch, say). */
    public void setDecoderBias(int s, float[] bias) {
        trainer.parameter(decoderBias(s)).set(FloatBuffer.wrap(bias));
    }

    /** A copy of a parameter's values, by name ("decoder.0", "encoder_bias", …). */
    public float[] read(String name) {
        return trainer.parameter(name).toFloatArray();
    }

    /** Source {@code s}'s decoder, {@code F x d_s} row-major. */
    public float[] decoderRows(int s) {
        return read(decoder(s));
    }

    /** Every parameter name, in registration order. */
    public java.util.Set<String> parameterNames() {
        return trainer.parameters().keySet();
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
        double[][] norms = new double[nLat][widths.length];
        for (int s = 0; s < widths.length; s++) {
            float[] dec = decoderRows(s);
            int d = widths[s];
            for (int i = 0; i < nLat; i++) {
                double q = 0;
                for (int j = 0; j < d; j++) {
                    q += (double) dec[i * d + j] * dec[i * d + j];
                }
                norms[i][s] = Math.sqrt(q);
            }
        }
        float[] w = new float[nLat];
        for (int i = 0; i < nLat; i++) {
            w[i] = config.selection().weight(norms[i]);
        }
        return w;
    }

    /** One optimizer step on a batch ({@code x[s]} is source s's {@code rows x d_s} rows, already normalised). */
    public StepStats step(float[][] x, int rows) {
        int nLat = config.latents();
        int nSrc = widths.length;
        float[] weights = selectionWeights();
        double[] rec = new double[nSrc];
        double[] aux = new double[1];
        double[] l0 = new double[1];
        int[] deadCount = new int[1];
        float[] minSel = new float[1];
        float loss = trainer.step(() -> {
            NDManager m = trainer.manager();
            NDArray[] xs = new NDArray[nSrc];
            NDArray pre = trainer.parameter("encoder_bias").reshape(1, nLat);
            for (int s = 0; s < nSrc; s++) {
                xs[s] = m.create(x[s], new Shape(rows, widths[s]));
                pre = pre.add(xs[s].matMul(trainer.parameter(encoder(s)).transpose()));
            }
            pre = pre.getNDArrayInternal().relu();
            float[] preValues = pre.toFloatArray();
            BatchTopK.Selection sel = BatchTopK.select(preValues, rows, nLat, config.k() * rows, weights, parallel);
            SparseCodes codes = sel.codes();
            deadLatents.update(codes.fired(), rows);
            int[] dead = deadLatents.dead();
            NDArray f = pre.mul(m.create(mask(codes), new Shape(rows, nLat)));
            NDArray total = null;
            NDArray[] residual = new NDArray[nSrc];
            for (int s = 0; s < nSrc; s++) {
                NDArray e = f.matMul(trainer.parameter(decoder(s))).add(trainer.parameter(decoderBias(s))).sub(xs[s]);
                NDArray r = e.square().sum(new int[]{1}).mean();
                rec[s] = r.getFloat();
                total = total == null ? r : total.add(r);
                residual[s] = e.neg().stopGradient();
            }
            if (config.sparsityPenalty() > 0 || (config.shared() > 0 && config.sharedSparsityPenalty() > 0)) {
                total = total.add(sparsityPenalty(f));
            }
            if (config.auxkAlpha() > 0 && dead.length > 0) {
                float[] ranked = preValues;
                if (weights != null) { // AuxK ranks dead latents by the weighted value too (§1.4)
                    ranked = preValues.clone();
                    for (int b = 0; b < rows; b++) {
                        for (int i = 0; i < nLat; i++) {
                            ranked[b * nLat + i] *= weights[i];
                        }
                    }
                }
                int kAux = Math.min(config.effectiveKAux(widths), dead.length);
                SparseCodes auxCodes = AuxK.select(FloatBuffer.wrap(ranked), rows, nLat, dead, kAux, parallel);
                if (auxCodes.nnz() > 0) {
                    NDArray fa = pre.mul(m.create(mask(auxCodes), new Shape(rows, nLat)));
                    NDArray num = null;
                    NDArray den = null;
                    for (int s = 0; s < nSrc; s++) {
                        NDArray n = residual[s].sub(fa.matMul(trainer.parameter(decoder(s))))
                                .square().sum(new int[]{1}).mean();
                        NDArray v = residual[s].sub(residual[s].mean(new int[]{0}, true))
                                .square().sum(new int[]{1}).mean();
                        num = num == null ? n : num.add(n);
                        den = den == null ? v : den.add(v);
                    }
                    float denV = den.getFloat();
                    if (denV > 0 && Float.isFinite(denV)) {
                        NDArray a = num.div(den);
                        aux[0] = a.getFloat();
                        total = total.add(a.mul((float) config.auxkAlpha()));
                    }
                }
            }
            l0[0] = codes.l0();
            deadCount[0] = dead.length;
            minSel[0] = sel.minSelectedRank();
            return total;
        });
        threshold.observe(trainer.steps(), minSel[0]);
        return new StepStats(loss, rec, aux[0], l0[0], deadCount[0], minSel[0]);
    }

    /**
     * The paper code's decoder-norm-weighted L1 on top of BatchTopK: standard latents weigh {@code Σ_s ‖D^s_i‖},
     * designated shared latents their one tied decoder's norm, each with its own λ.
     */
    private NDArray sparsityPenalty(NDArray f) {
        int nLat = config.latents();
        float[] standard = new float[nLat];
        float[] sharedOnes = new float[nLat];
        for (int i = 0; i < nLat; i++) {
            if (i < config.shared()) {
                sharedOnes[i] = (float) config.sharedSparsityPenalty();
            } else {
                standard[i] = (float) config.sparsityPenalty();
            }
        }
        NDManager m = trainer.manager();
        NDArray sum = null;
        NDArray first = null;
        for (int s = 0; s < widths.length; s++) {
            // tiny ε keeps the norm's gradient finite for a row that reached exactly zero
            NDArray n = trainer.parameter(decoder(s)).square().sum(new int[]{1}).add(1e-12f).sqrt();
            sum = sum == null ? n : sum.add(n);
            first = first == null ? n : first;
        }
        NDArray weight = sum.mul(m.create(standard)).add(first.mul(m.create(sharedOnes)));
        return f.mul(weight.reshape(1, nLat)).sum(new int[]{1}).mean();
    }

    private static float[] mask(SparseCodes codes) {
        float[] mask = new float[codes.rows * codes.latents];
        for (int b = 0; b < codes.rows; b++) {
            for (int p = codes.rowPtr[b]; p < codes.rowPtr[b + 1]; p++) {
                mask[b * codes.latents + codes.cols[p]] = 1f;
            }
        }
        return mask;
    }

    /** Re-ties the designated shared latents' decoder rows: each becomes the mean over sources. */
    private void tieSharedDecoders() {
        NDIndex rowsIdx = new NDIndex("0:" + config.shared());
        NDArray mean = null;
        for (int s = 0; s < widths.length; s++) {
            NDArray part = trainer.parameter(decoder(s)).get(rowsIdx);
            mean = mean == null ? part : mean.add(part);
        }
        mean = mean.div(widths.length);
        for (int s = 0; s < widths.length; s++) {
            trainer.parameter(decoder(s)).set(rowsIdx, mean);
        }
    }

    @Override
    public void close() {
        trainer.close();
    }
}
