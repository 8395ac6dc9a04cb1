package dev.moescope.sae.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.moescope.sae.dictionary.AuxK;
import dev.moescope.sae.dictionary.BatchTopK;
import dev.moescope.sae.dictionary.DeadLatents;
import dev.moescope.sae.dictionary.DecoderNormPenalty;
import dev.moescope.sae.dictionary.Parallel;
import dev.moescope.sae.dictionary.SparseCodes;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The fast BatchTopK step. Only the encoder forward is dense: {@code pre = (x − b_dec)·encoderᵀ + b_enc}, one DJL
 * (libtorch sgemm) matmul, the floor of the step. Its result is read in place (a direct view of the tensor) by the
 * exact histogram selection, which yields k·B (row, latent, value) triples. Everything after that touches only
 * those triples:
 * <ul>
 *   <li>sparse decoder: {@code x̂_b = b_dec + Σ f_bi · d_i} over row b's selected latents (rows of the decoder
 *       gathered, never a dense B×F by F×d product);</li>
 *   <li>sparse decoder backward: {@code ∂d_i = Σ_b f_bi · g_b}, and {@code ∂f_bi = g_b · d_i};</li>
 *   <li>sparse encoder backward: only selected entries carry gradient, so {@code ∂e_i = Σ_b ∂pre_bi (x_b − b_dec)},
 *       {@code ∂b_enc_i = Σ_b ∂pre_bi} and {@code ∂b_dec} gets {@code −Σ_i ∂b_enc_i e_i};</li>
 *   <li>AuxK the same way over its own per-row selection among dead latents.</li>
 * </ul>
 * Rows are split across threads for the per-row phases, latents (via a counting-sort transpose) for the per-latent
 * ones, so every output is written by one thread in a fixed order: results are deterministic.
 *
 * <p>One implementation for every dictionary learner: a {@link StepObjective} says what is optimised. The SAE is
 * its plain case; a crosscoder runs the same code on rows that concatenate its sources (no input centring,
 * decoder-norm-weighted selection, the optional decoder-norm L1 term, whose gradient is as sparse as the rest).
 */
public final class SparseStep implements StepKernel {

    private final PhaseTimes times = new PhaseTimes();
    private Gradients buffer;

    /** Time spent per phase since creation (or {@link PhaseTimes#reset()}). */
    public PhaseTimes times() {
        return times;
    }

    @Override
    public Gradients compute(SaeModel model, float[] x, int rows, DeadLatents deadLatents, SaeConfig config) {
        return compute(model, x, rows, deadLatents, StepObjective.sae(config, model.width()));
    }

    /**
     * The step for any {@link StepObjective}: the SAE's, or a crosscoder's on concatenated source rows (no input
     * centring, decoder-norm-weighted selection and AuxK ranking, the decoder-norm L1 term).
     */
    public Gradients compute(SaeModel model, float[] x, int rows, DeadLatents deadLatents, StepObjective objective) {
        int d = model.width();
        int nLat = model.latents();
        Parallel par = model.parallel();
        times.start();
        Gradients g = buffer != null && buffer.encoderBias.length == nLat && buffer.decoderBias.length == d
                ? buffer : new Gradients(nLat, d);
        buffer = null; // handed out; taken back by recycle()
        // every gradient entry is assigned below (rows zeroed by the thread that fills them), so no global clear
        float[] decB = model.read(SaeModel.DECODER_BIAS);
        boolean centred = objective.centredEncoder();
        float[] xc = centred ? new float[rows * d] : x;
        if (centred) {
            par.forRange(rows, (lo, hi) -> {
                for (int b = lo; b < hi; b++) {
                    for (int j = 0; j < d; j++) {
                        xc[b * d + j] = x[b * d + j] - decB[j];
                    }
                }
            });
        }
        float[] rankScale = objective.rankScale();
        DecoderNormPenalty penalty = objective.penalty() != null && objective.penalty().active()
                ? objective.penalty() : null;
        float[] penaltyWeights = penalty == null ? null : penalty.weights(model.decoderRows(), nLat, par);
        times.mark("prepare");
        try (NDScope scope = new NDScope()) {
            NDArray xcNd = model.manager().create(xc, new Shape(rows, d));
            NDArray enc = model.parameter(SaeModel.ENCODER).stopGradient();
            NDArray encB = model.parameter(SaeModel.ENCODER_BIAS).stopGradient();
            NDArray pre = xcNd.matMul(enc.transpose()).addi(encB);
            FloatBuffer preView = pre.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
            times.mark("encoder matmul");

            BatchTopK.Selection sel = BatchTopK.select(preView, rows, nLat, objective.k() * rows, rankScale, par);
            SparseCodes s = sel.codes();
            deadLatents.update(s.fired(), rows);
            int[] dead = deadLatents.dead();
            SparseCodes aux = objective.auxkAlpha() > 0 && dead.length > 0
                    ? AuxK.select(preView, rows, nLat, dead, Math.min(objective.kAux(), dead.length), rankScale, par)
                    : SparseCodes.empty(rows, nLat);
            times.mark("select");

            float[] dec = model.decoderRows();
            float[] e = new float[rows * d];
            float[] dF = new float[s.nnz()];
            double[] rowLoss = new double[rows];
            double[] rowPenalty = new double[rows];
            float gScale = 2f / rows;
            float invRows = 1f / rows;
            // decode and the gradient of each selected activation, per row
            par.forRange(rows, (lo, hi) -> {
                for (int b = lo; b < hi; b++) {
                    int o = b * d;
                    System.arraycopy(decB, 0, e, o, d);
                    for (int p = s.rowPtr[b]; p < s.rowPtr[b + 1]; p++) {
                        float f = s.vals[p];
                        int w = s.cols[p] * d;
                        for (int j = 0; j < d; j++) {
                            e[o + j] += f * dec[w + j];
                        }
                    }
                    double l = 0;
                    for (int j = 0; j < d; j++) {
                        float v = e[o + j] - x[o + j];
                        e[o + j] = v;
                        l += (double) v * v;
                    }
                    rowLoss[b] = l;
                    double pen = 0;
                    for (int p = s.rowPtr[b]; p < s.rowPtr[b + 1]; p++) {
                        int w = s.cols[p] * d;
                        float dot = 0;
                        for (int j = 0; j < d; j++) {
                            dot += e[o + j] * dec[w + j];
                        }
                        dF[p] = gScale * dot;
                        if (penaltyWeights != null) { // ∂(mean_b Σ_i f_bi w_i)/∂f_bi = w_i / B
                            float pw = penaltyWeights[s.cols[p]];
                            dF[p] += pw * invRows;
                            pen += (double) s.vals[p] * pw;
                        }
                    }
                    rowPenalty[b] = pen;
                }
            });
            double sparsity = 0;
            for (double v : rowPenalty) {
                sparsity += v;
            }
            sparsity /= rows;
            double rec = 0;
            for (double l : rowLoss) {
                rec += l;
            }
            rec /= rows;
            times.mark("decode");

            // AuxK: reconstruct the (detached) residual r = −e from dead latents, loss normalised by Var(r)
            float[] q = null;
            float[] dA = new float[aux.nnz()];
            double auxLoss = 0;
            float hScale = 0;
            if (aux.nnz() > 0) {
                double[] mean = new double[d];
                for (int b = 0; b < rows; b++) {
                    for (int j = 0; j < d; j++) {
                        mean[j] += e[b * d + j];
                    }
                }
                double var = 0;
                for (int b = 0; b < rows; b++) {
                    for (int j = 0; j < d; j++) {
                        double c = e[b * d + j] - mean[j] / rows;
                        var += c * c;
                    }
                }
                var /= rows;
                if (var > 0 && Double.isFinite(var)) {
                    float[] qq = new float[rows * d];
                    double[] auxRow = new double[rows];
                    float hs = (float) (objective.auxkAlpha() * 2.0 / (rows * var));
                    par.forRange(rows, (lo, hi) -> {
                        for (int b = lo; b < hi; b++) {
                            int o = b * d;
                            System.arraycopy(e, o, qq, o, d); // q = aux − r = aux + e
                            for (int p = aux.rowPtr[b]; p < aux.rowPtr[b + 1]; p++) {
                                float a = aux.vals[p];
                                int w = aux.cols[p] * d;
                                for (int j = 0; j < d; j++) {
                                    qq[o + j] += a * dec[w + j];
                                }
                            }
                            double l = 0;
                            for (int j = 0; j < d; j++) {
                                l += (double) qq[o + j] * qq[o + j];
                            }
                            auxRow[b] = l;
                            for (int p = aux.rowPtr[b]; p < aux.rowPtr[b + 1]; p++) {
                                int w = aux.cols[p] * d;
                                float dot = 0;
                                for (int j = 0; j < d; j++) {
                                    dot += qq[o + j] * dec[w + j];
                                }
                                dA[p] = hs * dot;
                            }
                        }
                    });
                    for (double l : auxRow) {
                        auxLoss += l;
                    }
                    auxLoss = auxLoss / rows / var;
                    q = qq;
                    hScale = hs;
                }
            }
            times.mark("auxk");

            // per-latent gradients: decoder rows, encoder rows, encoder bias
            SparseCodes.Transpose st = s.transpose();
            SparseCodes.Transpose at = aux.transpose();
            final float[] qf = q;
            final float hsf = hScale;
            par.forRange(nLat, (lo, hi) -> {
                for (int i = lo; i < hi; i++) {
                    int w = i * d;
                    Arrays.fill(g.decoder, w, w + d, 0f);
                    Arrays.fill(g.encoder, w, w + d, 0f);
                    float bias = 0;
                    double fSum = 0;
                    for (int slot = st.colPtr()[i]; slot < st.colPtr()[i + 1]; slot++) {
                        int p = st.entries()[slot];
                        int o = st.rowOf()[slot] * d;
                        float f = s.vals[p] * gScale;
                        float dp = dF[p];
                        bias += dp;
                        fSum += s.vals[p];
                        for (int j = 0; j < d; j++) {
                            g.decoder[w + j] += f * e[o + j];
                            g.encoder[w + j] += dp * xc[o + j];
                        }
                    }
                    if (qf != null) {
                        for (int slot = at.colPtr()[i]; slot < at.colPtr()[i + 1]; slot++) {
                            int p = at.entries()[slot];
                            int o = at.rowOf()[slot] * d;
                            float a = aux.vals[p] * hsf;
                            float dp = dA[p];
                            bias += dp;
                            for (int j = 0; j < d; j++) {
                                g.decoder[w + j] += a * qf[o + j];
                                g.encoder[w + j] += dp * xc[o + j];
                            }
                        }
                    }
                    if (penalty != null) {
                        penalty.addGradient(dec, i, fSum / rows, g.decoder);
                    }
                    g.encoderBias[i] = bias;
                }
            });
            times.mark("backward");

            // decoder bias: Σ_b g_b (output) − Σ_i ∂b_enc_i · e_i (through x − b_dec, when the encoder centres)
            FloatBuffer encView = model.view(SaeModel.ENCODER);
            double[] db = new double[d];
            for (int b = 0; b < rows; b++) {
                for (int j = 0; j < d; j++) {
                    db[j] += e[b * d + j];
                }
            }
            float[] row = new float[d];
            for (int i = 0; i < nLat && centred; i++) {
                float gb = g.encoderBias[i];
                if (gb != 0) {
                    encView.get(i * d, row, 0, d);
                    for (int j = 0; j < d; j++) {
                        db[j] -= (double) gb * row[j] / gScale;
                    }
                }
            }
            for (int j = 0; j < d; j++) {
                g.decoderBias[j] = (float) (db[j] * gScale);
            }
            g.reconstruction = rec;
            g.auxk = auxLoss;
            g.sparsity = sparsity;
            g.residual = e;
            g.loss = rec + objective.auxkAlpha() * auxLoss + sparsity;
            g.l0 = s.l0();
            g.minSelected = sel.minSelectedRank();
            g.dead = dead.length;
            times.mark("bias");
        }
        return g;
    }

    /** Returns a gradient buffer for reuse by the next step (saves zeroing fresh 2·F·d arrays' allocation). */
    public void recycle(Gradients g) {
        buffer = g;
    }
}
