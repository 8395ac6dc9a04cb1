package dev.moescope.store;

/**
 * One record batch of a store: the unit in which every table of a shard is stored and read.
 *
 * @param shard    shard index
 * @param batch    batch index within the shard
 * @param firstRow global index of the first row
 * @param rows     rows in the batch
 */
public record Chunk(int shard, int batch, long firstRow, int rows) {

    public long endRow() {
        return firstRow + rows;
    }
}
