package dev.moescope.crosscoder.diff;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.moescope.sae.dictionary.BatchTopK;
import dev.moescope.sae.dictionary.Parallel;
import dev.moescope.sae.dictionary.SparseCodes;
import dev.moescope.sae.encode.ThresholdEncoder;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Encodes paired rows with a trained crosscoder exactly as training defines it ({@code Crosscoder}):
 * {@code pre = ReLU(Σ_s x^s·W_enc^s + b_enc)} on normalised rows, then either the inference rule
 * {@code f_i = pre_i·[pre_i·w_i > θ]} (sae's {@link ThresholdEncoder#thresholdCodes} with the selection weights
 * {@code w} as rank scale; what users of the crosscoder get) or batch top-k over the batch with the training k
 * (sae's {@link BatchTopK#select}, the same weighting); and decodes {@code x̂^s = f·W_dec^s + b_dec^s}.
 */
public final class CrosscoderEncoder implements AutoCloseable {

    private final CrosscoderWeights w;
    private final int k;
    private final float[] rankScale;
    private final float theta;
    private final Parallel parallel;
    private final NDManager manager;
    private final NDArray[] encoders;
    private final NDArray encoderBias;

    /** Both encodings of one batch. */
    public record Codes(SparseCodes threshold, SparseCodes batchTopK) {
    }

    public CrosscoderEncoder(Engine engine, CrosscoderRun run, Parallel parallel) {
        this.w = run.weights();
        this.k = run.k();
        this.rankScale = run.rankScale();
        this.theta = (float) w.threshold();
        this.parallel = parallel;
        this.manager = engine.newBaseManager();
        int f = w.latents();
        this.encoders = new NDArray[w.sources()];
        for (int s = 0; s < encoders.length; s++) {
            encoders[s] = manager.create(w.encoder(s), new Shape(w.widths()[s], f));
        }
        this.encoderBias = manager.create(w.encoderBias(), new Shape(f));
    }

    /** Multiplies each source's raw rows in place by its input scale (what training fed the crosscoder). */
    public void normalise(float[][] x, int rows) {
        for (int s = 0; s < x.length; s++) {
            float c = (float) w.inputScale(s);
            int n = rows * w.widths()[s];
            for (int i = 0; i < n; i++) {
                x[s][i] *= c;
            }
        }
    }

    /**
     * Codes of {@code rows} normalised rows ({@code x[s]} row-major {@code rows x d_s}). Without an estimated θ
     * (a run shorter than its threshold start), the threshold codes are the batch top-k ones.
     */
    public Codes encode(float[][] x, int rows) {
        int f = w.latents();
        try (NDScope scope = new NDScope()) {
            NDArray pre = null;
            for (int s = 0; s < encoders.length; s++) {
                NDArray xs = manager.create(x[s], new Shape(rows, w.widths()[s]));
                NDArray part = xs.matMul(encoders[s]);
                pre = pre == null ? part : pre.addi(part);
            }
            pre = pre.addi(encoderBias).getNDArrayInternal().relu();
            FloatBuffer view = pre.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
            SparseCodes top = BatchTopK.select(view, rows, f, Math.min(k * rows, rows * f), rankScale, parallel)
                    .codes();
            SparseCodes thr = w.hasThreshold()
                    ? ThresholdEncoder.thresholdCodes(view, rows, f, theta, rankScale) : top;
            return new Codes(thr, top);
        }
    }

    /** {@code x̂^s} of every row of {@code codes}: row-major {@code rows x d_s}. */
    public float[] decode(SparseCodes codes, int s) {
        int d = w.widths()[s];
        float[] dec = w.decoder(s);
        float[] bias = w.decoderBias(s);
        float[] out = new float[codes.rows * d];
        for (int r = 0; r < codes.rows; r++) {
            int o = r * d;
            System.arraycopy(bias, 0, out, o, d);
            for (int p = codes.rowPtr[r]; p < codes.rowPtr[r + 1]; p++) {
                float v = codes.vals[p];
                int row = codes.cols[p] * d;
                for (int j = 0; j < d; j++) {
                    out[o + j] += v * dec[row + j];
                }
            }
        }
        return out;
    }

    /** Whether the threshold rule is in use (θ was estimated in training). */
    public boolean usesThreshold() {
        return w.hasThreshold();
    }

    @Override
    public void close() {
        manager.close();
    }
}
