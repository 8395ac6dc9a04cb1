package dev.moescope.sae.encode;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.moescope.sae.dictionary.SparseCodes;
import dev.moescope.sae.io.SaeLensExport;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Inference encoding of an exported SAE (raw activation units): {@code pre = (x - b_dec) W_enc + b_enc}, latent
 * {@code i} active with value {@code pre_i} where {@code pre_i > θ} and {@code pre_i > 0}. Rows are independent
 * (unlike batch top-k), so any row can be encoded alone. The pre-activations are computed on DJL in blocks of
 * {@link #BLOCK_ROWS} rows so memory stays at {@code BLOCK_ROWS * F} floats whatever the input size.
 */
public final class ThresholdEncoder implements AutoCloseable {

    public static final int BLOCK_ROWS = 1024;

    private final SaeLensExport.RawSae sae;
    private final NDManager manager;
    private final NDArray wEnc;
    private final NDArray bEnc;

    public ThresholdEncoder(Engine engine, SaeLensExport.RawSae sae) {
        this.sae = sae;
        this.manager = engine.newBaseManager();
        this.wEnc = manager.create(sae.wEnc(), new Shape(sae.width(), sae.latents()));
        this.bEnc = manager.create(sae.bEnc(), new Shape(sae.latents()));
    }

    /** Codes of {@code rows} rows of {@code x} (row-major, width d); rows are expected finite. */
    public SparseCodes encode(float[] x, int rows) {
        int d = sae.width();
        int f = sae.latents();
        int[] rowPtr = new int[rows + 1];
        int[] cols = new int[Math.max(16, rows * 16)];
        float[] vals = new float[cols.length];
        int o = 0;
        for (int start = 0; start < rows; start += BLOCK_ROWS) {
            int n = Math.min(BLOCK_ROWS, rows - start);
            try (NDScope scope = new NDScope()) {
                float[] xc = new float[n * d];
                for (int r = 0; r < n; r++) {
                    for (int j = 0; j < d; j++) {
                        xc[r * d + j] = x[(start + r) * d + j] - sae.bDec()[j];
                    }
                }
                NDArray pre = manager.create(xc, new Shape(n, d)).matMul(wEnc).addi(bEnc);
                SparseCodes c = thresholdCodes(pre.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer(),
                        n, f, sae.theta());
                if (o + c.nnz() > cols.length) {
                    int cap = Math.max(o + c.nnz(), cols.length * 2);
                    cols = java.util.Arrays.copyOf(cols, cap);
                    vals = java.util.Arrays.copyOf(vals, cap);
                }
                System.arraycopy(c.cols, 0, cols, o, c.nnz());
                System.arraycopy(c.vals, 0, vals, o, c.nnz());
                for (int r = 0; r < n; r++) {
                    rowPtr[start + r + 1] = o + c.rowPtr[r + 1];
                }
                o += c.nnz();
            }
        }
        return new SparseCodes(rows, f, rowPtr, java.util.Arrays.copyOf(cols, o), java.util.Arrays.copyOf(vals, o));
    }

    /** {@code f = pre·[pre > θ]} (and pre > 0) of a row-major {@code rows x latents} pre-activation matrix. */
    public static SparseCodes thresholdCodes(FloatBuffer pre, int rows, int latents, float theta) {
        return thresholdCodes(pre, rows, latents, theta, null);
    }

    /**
     * As {@link #thresholdCodes(FloatBuffer, int, int, float)} with a per-latent {@code rankScale} (may be null):
     * latent i fires where {@code pre_i·rankScale_i > θ}, keeping the unscaled {@code pre_i} as its value. This is
     * the inference rule of a crosscoder trained with decoder-norm-weighted selection ({@code BatchTopK}'s
     * {@code rankScale}), whose θ tracks the smallest selected <em>scaled</em> value.
     */
    public static SparseCodes thresholdCodes(FloatBuffer pre, int rows, int latents, float theta, float[] rankScale) {
        int[] rowPtr = new int[rows + 1];
        int[] cols = new int[Math.max(16, rows * 16)];
        float[] vals = new float[cols.length];
        float[] row = new float[latents];
        int o = 0;
        for (int b = 0; b < rows; b++) {
            pre.get(b * latents, row, 0, latents);
            for (int i = 0; i < latents; i++) {
                float v = row[i];
                float rank = rankScale == null ? v : v * rankScale[i];
                if (rank > theta && v > 0) {
                    if (o == cols.length) {
                        cols = java.util.Arrays.copyOf(cols, o * 2);
                        vals = java.util.Arrays.copyOf(vals, o * 2);
                    }
                    cols[o] = i;
                    vals[o++] = v;
                }
            }
            rowPtr[b + 1] = o;
        }
        return new SparseCodes(rows, latents, rowPtr, cols, vals);
    }

    @Override
    public void close() {
        manager.close();
    }
}
