package dev.moescope.store.stream;

/**
 * One batch from {@link ShuffledBatches}: the same rows of every source.
 *
 * @param rows     rows in the batch
 * @param widths   values per row of each source
 * @param sources  per source a row-major {@code float[rows * width]} (fresh arrays, owned by the caller)
 * @param rowIndex global store row of each batch row (for looking up tokens and routing)
 */
public record HookBatch(int rows, int[] widths, float[][] sources, long[] rowIndex) {

    /** The values of the only (or first) source: {@code float[rows * width]}. */
    public float[] values() {
        return sources[0];
    }

    /** The values of source {@code i}. */
    public float[] values(int i) {
        return sources[i];
    }

    public int width() {
        return widths[0];
    }
}
