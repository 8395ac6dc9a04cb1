package dev.moescope.sae.data;

/**
 * A batch of activations of one hook: {@code rows x width} floats, row-major.
 *
 * @param data      the activations, length {@code rows * width} (may be longer; only the prefix is used)
 * @param rows      number of rows
 * @param width     activation width d
 * @param rowIds    each row's index in its source (for error messages: "row 1234 is NaN")
 * @param documents each row's document id, or {@code null} where the source has none
 */
public record ActivationBatch(float[] data, int rows, int width, long[] rowIds, long[] documents) {
}
