package dev.moescope.sae.dictionary;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The AuxK selection (Gao et al. 2024): per token, the top {@code kAux} positive pre-activations among the dead
 * latents, whose reconstruction of the main reconstruction's residual gives dead latents a gradient again.
 * {@code kAux = min(kAuxMax, #dead)} as in dictionary_learning; non-positive pre-activations are left out because
 * after the ReLU they add nothing to the reconstruction and carry no gradient.
 */
public final class AuxK {

    private AuxK() {
    }

    /**
     * Per-row top-{@code kAux} of {@code pre} over the latents listed (ascending) in {@code dead}. Ties are broken by
     * latent index, lowest first.
     */
    public static SparseCodes select(FloatBuffer pre, int rows, int latents, int[] dead, int kAux, Parallel par) {
        return select(pre, rows, latents, dead, kAux, null, par);
    }

    /**
     * As {@link #select(FloatBuffer, int, int, int[], int, Parallel)}, ranking by {@code pre * rankScale} (the
     * crosscoder's decoder-norm weighting, {@code null} for none) while keeping the unscaled {@code pre} as the value.
     */
    public static SparseCodes select(FloatBuffer pre, int rows, int latents, int[] dead, int kAux, float[] rankScale,
                                     Parallel par) {
        if (dead.length == 0 || kAux <= 0) {
            return SparseCodes.empty(rows, latents);
        }
        int[] bounds = par.chunkBounds(rows);
        int chunks = bounds.length - 1;
        int[][] colParts = new int[chunks][];
        float[][] valParts = new float[chunks][];
        int[] counts = new int[rows];
        par.forChunks(chunks, c -> {
            float[] row = new float[latents];
            float[] v = new float[dead.length];
            float[] raw = new float[dead.length];
            int[] idx = new int[dead.length];
            float[] scratch = new float[dead.length];
            int[] outC = new int[(bounds[c + 1] - bounds[c]) * Math.min(kAux, dead.length)];
            float[] outV = new float[outC.length];
            int o = 0;
            for (int b = bounds[c]; b < bounds[c + 1]; b++) {
                pre.get(b * latents, row, 0, latents);
                int n = 0;
                for (int j : dead) {
                    float x = row[j];
                    float rank = rankScale == null ? x : x * rankScale[j];
                    if (x > 0 && rank > 0) {
                        v[n] = rank;
                        raw[n] = x;
                        idx[n] = j;
                        n++;
                    }
                }
                int start = o;
                if (n <= kAux) {
                    for (int i = 0; i < n; i++) {
                        outC[o] = idx[i];
                        outV[o++] = raw[i];
                    }
                } else {
                    System.arraycopy(v, 0, scratch, 0, n);
                    float t = kthLargest(scratch, n, kAux);
                    int greater = 0;
                    for (int i = 0; i < n; i++) {
                        if (v[i] > t) {
                            greater++;
                        }
                    }
                    int ties = kAux - greater;
                    for (int i = 0; i < n; i++) {
                        if (v[i] > t || (v[i] == t && ties-- > 0)) {
                            outC[o] = idx[i];
                            outV[o++] = raw[i];
                        }
                    }
                }
                counts[b] = o - start;
            }
            colParts[c] = Arrays.copyOf(outC, o);
            valParts[c] = Arrays.copyOf(outV, o);
        });
        int[] rowPtr = new int[rows + 1];
        for (int b = 0; b < rows; b++) {
            rowPtr[b + 1] = rowPtr[b] + counts[b];
        }
        int[] cols = new int[rowPtr[rows]];
        float[] vals = new float[rowPtr[rows]];
        for (int c = 0; c < chunks; c++) {
            int at = rowPtr[bounds[c]];
            System.arraycopy(colParts[c], 0, cols, at, colParts[c].length);
            System.arraycopy(valParts[c], 0, vals, at, valParts[c].length);
        }
        return new SparseCodes(rows, latents, rowPtr, cols, vals);
    }

    /** The k-th largest of {@code a[0..n)} (k is 1-based); reorders {@code a}. Average O(n) quickselect. */
    static float kthLargest(float[] a, int n, int k) {
        int target = n - k; // index in ascending order
        int lo = 0;
        int hi = n - 1;
        while (lo < hi) {
            float pivot = a[(lo + hi) >>> 1];
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (a[i] < pivot) {
                    i++;
                }
                while (a[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    float tmp = a[i];
                    a[i] = a[j];
                    a[j] = tmp;
                    i++;
                    j--;
                }
            }
            if (target <= j) {
                hi = j;
            } else if (target >= i) {
                lo = i;
            } else {
                return a[target];
            }
        }
        return a[target];
    }
}
