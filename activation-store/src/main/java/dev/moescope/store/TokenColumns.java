package dev.moescope.store;

/**
 * Tokens of a row range, column by column.
 *
 * @param firstRow  global index of the first row
 * @param docIndex  document index per row
 * @param docId     document id per row
 * @param domain    domain per row
 * @param position  position in the document per row
 * @param tokenId   token id per row
 * @param text      token text per row, or null when the store has none
 */
public record TokenColumns(long firstRow, long[] docIndex, String[] docId, String[] domain, int[] position,
                           int[] tokenId, String[] text) {

    public int size() {
        return tokenId.length;
    }
}
