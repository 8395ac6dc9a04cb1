package dev.moescope.sae.data;

import dev.moescope.core.error.MoescopeException;

/** Validates activation batches before they reach a model. */
public final class BatchChecks {

    private BatchChecks() {
    }

    /**
     * Fails with a one-line bad-input error naming the source, row and column of the first NaN or infinite value;
     * with {@code skip}, returns a copy without such rows instead (possibly empty).
     */
    public static ActivationBatch finite(ActivationBatch b, String sourceName, boolean skip) {
        float[] x = b.data();
        int w = b.width();
        int bad = 0;
        boolean[] drop = null;
        for (int r = 0; r < b.rows(); r++) {
            for (int j = 0; j < w; j++) {
                float v = x[r * w + j];
                if (!Float.isFinite(v)) {
                    if (!skip) {
                        throw MoescopeException.badInput(sourceName + ": row " + b.rowIds()[r] + " column " + j
                                + " is " + v + " (use --skip-bad-rows to drop such rows)");
                    }
                    if (drop == null) {
                        drop = new boolean[b.rows()];
                    }
                    drop[r] = true;
                    bad++;
                    break;
                }
            }
        }
        if (bad == 0) {
            return b;
        }
        int keep = b.rows() - bad;
        float[] data = new float[keep * w];
        long[] ids = new long[keep];
        long[] docs = b.documents() == null ? null : new long[keep];
        int o = 0;
        for (int r = 0; r < b.rows(); r++) {
            if (!drop[r]) {
                System.arraycopy(x, r * w, data, o * w, w);
                ids[o] = b.rowIds()[r];
                if (docs != null) {
                    docs[o] = b.documents()[r];
                }
                o++;
            }
        }
        return new ActivationBatch(data, keep, w, ids, docs);
    }
}
