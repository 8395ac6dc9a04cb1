package dev.moescope.store;

import java.nio.FloatBuffer;

/**
 * One record batch of one hook, as handed out by {@link ActivationStore#hookChunks(String)}.
 *
 * @param firstRow global index of the first row
 * @param rows     rows in the chunk
 * @param width    values per row
 * @param values   {@code rows * width} floats, row-major: a read-only view of the memory-mapped file (no copy) for
 *                 uncompressed float32 stores, otherwise a decoded copy
 */
public record HookChunk(long firstRow, int rows, int width, FloatBuffer values) {

    /** The values as a new {@code float[rows * width]} (one copy). */
    public float[] toArray() {
        float[] out = new float[rows * width];
        values.get(0, out, 0, out.length);
        return out;
    }
}
