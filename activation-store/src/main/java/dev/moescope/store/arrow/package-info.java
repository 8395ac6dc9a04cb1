/**
 * Arrow plumbing of the store, kept out of the public API: the table schemas with their self-describing
 * metadata, bulk column filling, a checksumming IPC file writer, and {@link dev.moescope.store.arrow.MappedArrowFile},
 * a memory-mapped reader that serves uncompressed float columns without copying.
 */
package dev.moescope.store.arrow;
