package dev.moescope.store.manifest;

import java.util.List;
import java.util.Map;

/**
 * One committed shard: a run of whole documents. Documents never span shards, so a resume restarts cleanly after
 * the last committed document.
 *
 * @param index          shard number, from 0, consecutive
 * @param directory      directory name inside the store, {@code shard-00000}
 * @param firstRow       global index of the shard's first row
 * @param rows           rows (token positions) in the shard
 * @param firstDocument  global index of the shard's first document
 * @param documents      documents in the shard
 * @param lastDocumentId id of the shard's last document (lets a resuming probe check it is on the same corpus)
 * @param batchRows      rows per record batch (the last batch of the shard may be shorter)
 * @param domainRows     rows per domain
 * @param files          the shard's files with sizes and checksums
 */
public record ShardEntry(int index, String directory, long firstRow, long rows, long firstDocument, long documents,
                         String lastDocumentId, int batchRows, Map<String, Long> domainRows, List<FileEntry> files) {

    /** Record batches in each of the shard's tables. */
    public int batches() {
        return (int) ((rows + batchRows - 1) / batchRows);
    }

    /** The file called {@code name}, or null. */
    public FileEntry file(String name) {
        for (FileEntry f : files) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        return null;
    }

    /** Shard directory name for shard {@code index}. */
    public static String directoryName(int index) {
        return String.format("shard-%05d", index);
    }
}
