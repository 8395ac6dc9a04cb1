package dev.moescope.sae.dictionary;

/**
 * Sparse latent codes of a batch in CSR form: row {@code b}'s non-zero latents are
 * {@code cols[rowPtr[b] .. rowPtr[b+1])} with values {@code vals[...]}, columns ascending within a row. BatchTopK
 * gives rows different numbers of active latents, so the layout is ragged by design (no fixed k per row).
 */
public final class SparseCodes {

    public final int rows;
    public final int latents;
    public final int[] rowPtr;
    public final int[] cols;
    public final float[] vals;

    public SparseCodes(int rows, int latents, int[] rowPtr, int[] cols, float[] vals) {
        this.rows = rows;
        this.latents = latents;
        this.rowPtr = rowPtr;
        this.cols = cols;
        this.vals = vals;
    }

    /** Number of stored (selected) entries. */
    public int nnz() {
        return rowPtr[rows];
    }

    /** Codes with no entries. */
    public static SparseCodes empty(int rows, int latents) {
        return new SparseCodes(rows, latents, new int[rows + 1], new int[0], new float[0]);
    }

    /** Mean number of entries with a value above zero per row (the L0 of the batch). */
    public double l0() {
        long n = 0;
        for (float v : vals) {
            if (v > 0) {
                n++;
            }
        }
        return rows == 0 ? 0 : (double) n / rows;
    }

    /** Smallest positive value, or 0 when there is none (what the inference threshold tracks). */
    public float minPositive() {
        float m = Float.POSITIVE_INFINITY;
        for (float v : vals) {
            if (v > 0 && v < m) {
                m = v;
            }
        }
        return m == Float.POSITIVE_INFINITY ? 0f : m;
    }

    /** Per latent, whether it has a positive entry in this batch. */
    public boolean[] fired() {
        boolean[] f = new boolean[latents];
        for (int i = 0; i < cols.length; i++) {
            if (vals[i] > 0) {
                f[cols[i]] = true;
            }
        }
        return f;
    }

    /**
     * The transpose (CSC) as a permutation: {@code colPtr} (latents+1) and {@code entries}, the CSR entry indices of
     * each latent in row order. Counting sort, O(nnz + latents).
     */
    public Transpose transpose() {
        int[] colPtr = new int[latents + 1];
        for (int c : cols) {
            colPtr[c + 1]++;
        }
        for (int i = 0; i < latents; i++) {
            colPtr[i + 1] += colPtr[i];
        }
        int[] fill = colPtr.clone();
        int[] entries = new int[cols.length];
        int[] rowOf = new int[cols.length];
        for (int b = 0; b < rows; b++) {
            for (int p = rowPtr[b]; p < rowPtr[b + 1]; p++) {
                int slot = fill[cols[p]]++;
                entries[slot] = p;
                rowOf[slot] = b;
            }
        }
        return new Transpose(colPtr, entries, rowOf);
    }

    /** CSC view of a {@link SparseCodes}: latent {@code i}'s entries are {@code entries[colPtr[i]..colPtr[i+1])}. */
    public record Transpose(int[] colPtr, int[] entries, int[] rowOf) {
    }
}
