/**
 * Reading a store for training: a seeded shuffle buffer over shards and rows with bounded memory, a train /
 * validation split by document, and paired reading of several stores recorded on the same token stream (the
 * crosscoder's input), which verifies that they are aligned row by row.
 */
package dev.moescope.store.stream;
