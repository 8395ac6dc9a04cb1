package dev.moescope.store;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.progress.Progress;
import dev.moescope.store.arrow.ChecksummedChannel;
import dev.moescope.store.arrow.MappedArrowFile;
import dev.moescope.store.manifest.FileEntry;
import dev.moescope.store.manifest.Manifest;
import dev.moescope.store.manifest.ShardEntry;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Full check of a store: the manifest's consistency, every file's size and CRC32C, every file's structure and
 * self-description against the manifest, and the tokens table's invariants (document indices within the shard's
 * range and consecutive, positions 0, 1, 2, ... within each document, one id and one domain per document, rows per
 * domain as listed). Stops at the first problem with a bad-input error naming the file and shard.
 */
public final class StoreVerifier {

    private StoreVerifier() {
    }

    /**
     * What a successful verification saw.
     *
     * @param shards      shards checked
     * @param files       files checked
     * @param rows        rows checked
     * @param bytes       bytes checksummed
     * @param uncommitted leftover directories of an interrupted writer (ignored, not an error)
     */
    public record Report(int shards, int files, long rows, long bytes, List<String> uncommitted) {
    }

    /** Verifies the store at {@code dir}. */
    public static Report verify(Path dir) {
        int files = 0;
        long bytes = 0;
        try (ActivationStore store = ActivationStore.open(dir);
             Progress progress = Progress.start("verify", store.manifest().rows(), "row")) {
            Manifest m = store.manifest();
            for (ShardEntry s : m.shards()) {
                Path shardDir = dir.resolve(s.directory());
                for (FileEntry f : s.files()) {
                    Path p = shardDir.resolve(f.name());
                    String crc;
                    try {
                        crc = ChecksummedChannel.crc32cOf(p);
                    } catch (java.io.IOException e) {
                        throw MoescopeException.badInput(p, "cannot read: " + e.getMessage(), e);
                    }
                    if (!crc.equals(f.crc32c())) {
                        throw MoescopeException.badInput(p, "checksum mismatch in shard " + s.index()
                                + " (file corrupted or replaced)");
                    }
                    files++;
                    bytes += f.bytes();
                }
                for (HookSpec h : m.hooks()) {
                    store.hookFile(s.index(), h);
                    if (h.sparse()) {
                        store.readSparse(h.name(), s.firstRow(), (int) s.rows()); // checks index ranges and lengths
                    }
                }
                for (RoutingSpec r : m.routing()) {
                    MappedArrowFile rf = store.routingFile(s.index(), r);
                    checkRouting(store, s, r, rf.path());
                }
                checkTokens(store, s);
                progress.stepBy(s.rows());
            }
            return new Report(m.shards().size(), files, m.rows(), bytes, store.uncommittedDirectories());
        }
    }

    private static void checkRouting(ActivationStore store, ShardEntry s, RoutingSpec r, Path file) {
        RoutingColumns rc = store.readRouting(r.layer(), s.firstRow(), (int) s.rows());
        for (int i = 0; i < rc.expertIds().length; i++) {
            int e = rc.expertIds()[i];
            if (e < 0 || e >= r.experts()) {
                throw MoescopeException.badInput(file, "expert id " + e + " out of range [0, " + r.experts()
                        + ") at row " + (s.firstRow() + i / r.topK()) + " of shard " + s.index());
            }
        }
    }

    private static void checkTokens(ActivationStore store, ShardEntry s) {
        Path file = store.directory().resolve(s.directory()).resolve(Manifest.TOKENS_FILE);
        TokenColumns t = store.readTokens(s.firstRow(), (int) s.rows());
        Map<String, Long> domainRows = new HashMap<>();
        long expectedDoc = s.firstDocument();
        String docId = null;
        String domain = null;
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < t.size() && problems.isEmpty(); i++) {
            long doc = t.docIndex()[i];
            long row = s.firstRow() + i;
            if (i == 0 || doc != t.docIndex()[i - 1]) {
                if (doc != expectedDoc) {
                    problems.add("row " + row + " starts document " + doc + ", expected " + expectedDoc);
                } else if (t.position()[i] != 0) {
                    problems.add("document " + doc + " starts at position " + t.position()[i]);
                }
                expectedDoc = doc + 1;
                docId = t.docId()[i];
                domain = t.domain()[i];
            } else {
                if (t.position()[i] != t.position()[i - 1] + 1) {
                    problems.add("row " + row + ": position " + t.position()[i] + " after " + t.position()[i - 1]);
                } else if (!t.docId()[i].equals(docId) || !t.domain()[i].equals(domain)) {
                    problems.add("row " + row + ": document id or domain changes inside document " + doc);
                }
            }
            domainRows.merge(t.domain()[i], 1L, Long::sum);
        }
        if (problems.isEmpty() && expectedDoc != s.firstDocument() + s.documents()) {
            problems.add("holds documents up to " + (expectedDoc - 1) + ", manifest says "
                    + (s.firstDocument() + s.documents() - 1));
        }
        if (problems.isEmpty() && !domainRows.equals(s.domainRows())) {
            problems.add("rows per domain " + domainRows + " differ from the manifest's " + s.domainRows());
        }
        if (problems.isEmpty() && !t.docId()[t.size() - 1].equals(s.lastDocumentId())) {
            problems.add("last document is '" + t.docId()[t.size() - 1] + "', manifest says '" + s.lastDocumentId() + "'");
        }
        if (!problems.isEmpty()) {
            throw MoescopeException.badInput(file, "shard " + s.index() + ": " + problems.get(0));
        }
    }
}
