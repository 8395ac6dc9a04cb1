package dev.moescope.store;

/**
 * Rows of a sparse hook in compressed sparse row form: row {@code r} has the active latents
 * {@code indices[offsets[r] .. offsets[r+1])} with {@code values} at the same positions (scipy's
 * {@code csr_matrix((values, indices, offsets), shape=(rows, width))}).
 *
 * @param firstRow global index of the first row
 * @param width    number of latents
 * @param offsets  {@code rows + 1} offsets into indices and values
 * @param indices  active latent indices, in {@code [0, width)}
 * @param values   their values
 */
public record SparseRows(long firstRow, int width, int[] offsets, int[] indices, float[] values) {

    public int size() {
        return offsets.length - 1;
    }

    /** Active latents of row {@code r}. */
    public int count(int r) {
        return offsets[r + 1] - offsets[r];
    }

    /** The rows as a dense row-major {@code float[rows * width]} (zeros where inactive). */
    public float[] toDense() {
        float[] out = new float[Math.multiplyExact(size(), width)];
        scatterInto(out, 0);
        return out;
    }

    /** Writes the rows densely into {@code dst} at {@code offset} (which must hold zeros where inactive). */
    public void scatterInto(float[] dst, int offset) {
        for (int r = 0; r < size(); r++) {
            for (int i = offsets[r]; i < offsets[r + 1]; i++) {
                dst[offset + r * width + indices[i]] = values[i];
            }
        }
    }
}
