/**
 * Exports of a store for other tools: Hugging Face {@code datasets} directories ({@code load_from_disk}; one row
 * per token, or one row per context window with {@code Array2D} columns as SAELens's cached-activation loader
 * expects), Parquet through Arrow's C++ dataset writer, and numpy {@code .npy} files with a tokens CSV. All stream
 * chunk by chunk.
 */
package dev.moescope.store.export;
