package dev.moescope.sae.eval;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.moescope.core.progress.Progress;
import dev.moescope.sae.data.ActivationBatch;
import dev.moescope.sae.data.ActivationSource;
import dev.moescope.sae.data.BatchChecks;
import dev.moescope.sae.dictionary.BatchTopK;
import dev.moescope.sae.dictionary.Parallel;
import dev.moescope.sae.dictionary.SparseCodes;
import dev.moescope.sae.encode.ThresholdEncoder;
import dev.moescope.sae.io.SaeLensExport;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.function.BiConsumer;

/**
 * Runs an exported SAE ({@link SaeLensExport.RawSae}, raw units) over a source's validation rows in two encoding
 * modes — the inference threshold ({@code pre > θ}, what users get) and batch top-k with the training k per batch
 * — and gathers {@link Metrics} for both plus per-latent firing counts under the threshold.
 */
public final class SaeEvaluator implements AutoCloseable {

    /** How latents are chosen at evaluation. */
    public enum Mode { THRESHOLD, BATCH_TOPK }

    private final Engine engine;
    private final SaeLensExport.RawSae sae;
    private final int k;
    private final Parallel par;

    public SaeEvaluator(Engine engine, SaeLensExport.RawSae sae, int k, int threads) {
        this.engine = engine;
        this.sae = sae;
        this.k = k;
        this.par = new Parallel(threads);
    }

    /** Results of {@link #evaluate}. */
    public record Result(Metrics threshold, Metrics batchTopK, long[] firingCounts, long tokens) {
    }

    public Result evaluate(ActivationSource source, int batchRows) {
        return evaluate(source, batchRows, null);
    }

    /**
     * As {@link #evaluate(ActivationSource, int)}, also handing each validation batch and its threshold codes to
     * {@code thresholdCodes} (may be null), e.g. to collect top-activating rows.
     */
    public Result evaluate(ActivationSource source, int batchRows,
                           BiConsumer<ActivationBatch, SparseCodes> thresholdCodes) {
        int d = sae.width();
        double[] mean = new double[d];
        long[] n = {0};
        source.forEachValidation(batchRows, b -> {
            ActivationBatch c = BatchChecks.finite(b, source.name(), false);
            for (int r = 0; r < c.rows(); r++) {
                for (int j = 0; j < d; j++) {
                    mean[j] += c.data()[r * d + j];
                }
            }
            n[0] += c.rows();
        });
        for (int j = 0; j < d; j++) {
            mean[j] /= Math.max(1, n[0]);
        }
        Acc th = new Acc(d, mean);
        Acc tk = new Acc(d, mean);
        long[] fires = new long[sae.latents()];
        // the first pass (the mean) is a plain read; the second encodes every token, so it gets the progress bar
        try (NDManager m = engine.newBaseManager();
             Progress progress = Progress.start("evaluate", n[0], "tok")) {
            NDArray wEnc = m.create(sae.wEnc(), new Shape(d, sae.latents()));
            NDArray bEnc = m.create(sae.bEnc(), new Shape(sae.latents()));
            source.forEachValidation(batchRows, b -> {
                try (NDScope scope = new NDScope()) {
                    float[] xc = new float[b.rows() * d];
                    for (int r = 0; r < b.rows(); r++) {
                        for (int j = 0; j < d; j++) {
                            xc[r * d + j] = b.data()[r * d + j] - sae.bDec()[j];
                        }
                    }
                    NDArray pre = m.create(xc, new Shape(b.rows(), d)).matMul(wEnc).addi(bEnc);
                    FloatBuffer view = pre.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
                    SparseCodes thr = ThresholdEncoder.thresholdCodes(view, b.rows(), sae.latents(), sae.theta());
                    SparseCodes top = BatchTopK.select(view, b.rows(), sae.latents(), k * b.rows(), null, par).codes();
                    for (int p = 0; p < thr.nnz(); p++) {
                        fires[thr.cols[p]]++;
                    }
                    th.add(b, thr);
                    if (thresholdCodes != null) {
                        thresholdCodes.accept(b, thr);
                    }
                    tk.add(b, top);
                }
                progress.stepBy(b.rows());
            });
        }
        return new Result(th.metrics(), tk.metrics(), fires, n[0]);
    }

    /** Streaming accumulators for one mode. */
    private final class Acc {
        final int d;
        final double[] mean;
        long tokens;
        double sumE2;
        double sumX2c;
        double[] sumE;
        double sumX2;
        double[] sumX;
        double perToken;
        long perTokenN;
        double cos;
        double ratio;
        double l0;
        double xhat2;
        double xDotXhat;

        Acc(int d, double[] mean) {
            this.d = d;
            this.mean = mean;
            sumE = new double[d];
            sumX = new double[d];
        }

        void add(ActivationBatch b, SparseCodes c) {
            float[] xhat = new float[d];
            float[] w = sae.wDec();
            for (int r = 0; r < b.rows(); r++) {
                System.arraycopy(sae.bDec(), 0, xhat, 0, d);
                for (int p = c.rowPtr[r]; p < c.rowPtr[r + 1]; p++) {
                    float f = c.vals[p];
                    int o = c.cols[p] * d;
                    for (int j = 0; j < d; j++) {
                        xhat[j] += f * w[o + j];
                    }
                    if (f > 0) {
                        l0++;
                    }
                }
                double e2 = 0;
                double xc2 = 0;
                double x2 = 0;
                double h2 = 0;
                double xh = 0;
                for (int j = 0; j < d; j++) {
                    double x = b.data()[r * d + j];
                    double e = x - xhat[j];
                    e2 += e * e;
                    sumE[j] += e;
                    sumX[j] += x;
                    xc2 += (x - mean[j]) * (x - mean[j]);
                    x2 += x * x;
                    h2 += (double) xhat[j] * xhat[j];
                    xh += x * xhat[j];
                }
                sumE2 += e2;
                sumX2c += xc2;
                sumX2 += x2;
                xhat2 += h2;
                xDotXhat += xh;
                if (xc2 > 0) {
                    perToken += 1 - e2 / xc2;
                    perTokenN++;
                }
                if (x2 > 0 && h2 > 0) {
                    cos += xh / Math.sqrt(x2 * h2);
                    ratio += Math.sqrt(h2 / x2);
                }
                tokens++;
            }
        }

        Metrics metrics() {
            double n = Math.max(1, tokens);
            double eMean2 = 0;
            double xMean2 = 0;
            for (int j = 0; j < d; j++) {
                eMean2 += (sumE[j] / n) * (sumE[j] / n);
                xMean2 += (sumX[j] / n) * (sumX[j] / n);
            }
            double varE = sumE2 - n * eMean2;
            double varX = sumX2 - n * xMean2;
            return new Metrics(tokens, 1 - sumE2 / sumX2c, 1 - varE / varX, perToken / Math.max(1, perTokenN),
                    sumE2 / (n * d), l0 / n, cos / n, ratio / n, xhat2 / xDotXhat);
        }
    }

    @Override
    public void close() {
        par.close();
    }
}
