package dev.moescope.store;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.PreviousRun;
import dev.moescope.core.io.FileTrees;
import dev.moescope.core.json.AtomicFiles;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.store.manifest.Manifest;
import dev.moescope.store.manifest.ShardEntry;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Appends token rows to a store, document by document, with bounded memory and crash safety.
 *
 * <p>Rows go into a shard in a temporary directory ({@code .shard-00007.tmp}). At the first document end after
 * {@link StoreSpec#shardRows()} rows (or on {@link #commit()} / {@link #close()}), the shard is committed: every
 * file is forced to disk, the directory is renamed to {@code shard-00007}, the store directory is synced, and
 * the manifest is replaced atomically. A SIGKILL at any moment therefore leaves a store whose manifest lists only
 * complete shards; {@link #resume} deletes leftovers and continues after the last committed document.
 *
 * <pre>{@code
 * try (StoreWriter w = StoreWriter.create(dir, spec, provenance)) {
 *     for (Doc d : corpus) {
 *         w.beginDocument(d.id(), d.domain());
 *         w.append(TokenRows.of(ids).hook("blocks.0.resid_post", resid).routing(0, topIds, topWeights));
 *         w.endDocument();
 *     }
 * }
 * }</pre>
 *
 * <p>Memory: one record batch per hook and routing table ({@code batchRows * width} values each) plus ~20 bytes
 * per token of the current shard for the tokens table. One writer per store at a time (a file lock enforces it).
 * Not thread-safe.
 */
public final class StoreWriter implements AutoCloseable {

    private static final Pattern SHARD_DIR = Pattern.compile("^shard-\\d{5,}$");
    private static final Pattern TEMP_DIR = Pattern.compile("^\\.shard-\\d{5,}\\.tmp$");

    private final Path dir;
    private final StoreSpec spec;
    private final BufferAllocator allocator;
    private final StoreLock lock;
    private Manifest manifest;
    private ShardBuilder shard;
    private boolean documentOpen;
    private long documentIndex;
    private int documentPosition;
    private boolean closed;

    private StoreWriter(Path dir, StoreSpec spec, Manifest manifest) {
        this.dir = dir;
        this.spec = spec;
        this.manifest = manifest;
        this.lock = StoreLock.acquire(dir);
        this.allocator = new RootAllocator();
        this.documentIndex = manifest.documents();
    }

    private static void requireDense(StoreSpec spec) {
        for (HookSpec h : spec.hooks()) {
            if (h.sparse()) {
                throw MoescopeException.usage("hook " + h.name() + " is sparse: sparse hooks are added to a finished"
                        + " store with HookAppender, not recorded row by row");
            }
        }
    }

    /**
     * Creates a new, empty store of {@code spec} at {@code dir} (the directory may exist but must be empty) and
     * opens it for writing. The manifest is written at once, so the store opens even before the first shard.
     */
    public static StoreWriter create(Path dir, StoreSpec spec, Provenance provenance) {
        requireDense(spec);
        if (Files.exists(dir.resolve(Manifest.FILE_NAME))) {
            throw PreviousRun.holds(dir, "store", true);
        }
        try {
            Files.createDirectories(dir);
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw MoescopeException.badInput(dir, "directory is not empty; a new store needs an empty directory");
                }
            }
        } catch (IOException e) {
            throw MoescopeException.failure(dir + ": cannot create store directory: " + e.getMessage(), e);
        }
        Manifest m = Manifest.empty(spec, provenance);
        m.write(dir);
        return new StoreWriter(dir, spec, m);
    }

    /**
     * Reopens the store at {@code dir} to append more documents. Refuses (bad input, exit 3) a {@code spec} whose
     * model, tokenizer, hooks, widths, dtypes, routing, token text or compression differ from the store's. Shards
     * left uncommitted by a crash are deleted; the caller continues with document {@link #documentsCommitted()}.
     */
    public static StoreWriter resume(Path dir, StoreSpec spec) {
        requireDense(spec);
        Manifest m = Manifest.read(dir);
        String diff = m.differenceFrom(spec);
        if (diff != null) {
            throw MoescopeException.badInput(dir.resolve(Manifest.FILE_NAME), "refusing to append: " + diff);
        }
        StoreWriter w = new StoreWriter(dir, spec, m);
        try {
            w.removeUncommitted();
        } catch (RuntimeException e) {
            w.close();
            throw e;
        }
        return w;
    }

    /** Whether {@code dir} holds a store (a manifest). */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(Manifest.FILE_NAME));
    }

    private void removeUncommitted() {
        int committed = manifest.shards().size();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                boolean temp = TEMP_DIR.matcher(name).matches();
                boolean orphan = SHARD_DIR.matcher(name).matches()
                        && Integer.parseInt(name.substring("shard-".length())) >= committed;
                if ((temp || orphan) && Files.isDirectory(p)) {
                    FileTrees.delete(p);
                }
            }
        } catch (IOException e) {
            throw MoescopeException.failure(dir + ": cannot clean up uncommitted shards: " + e.getMessage(), e);
        }
        AtomicFiles.syncDirectory(dir);
    }

    public Path directory() {
        return dir;
    }

    public StoreSpec spec() {
        return spec;
    }

    /** Documents safely on disk: a resuming caller skips this many documents of its corpus. */
    public long documentsCommitted() {
        return manifest.documents();
    }

    /** Rows safely on disk. */
    public long rowsCommitted() {
        return manifest.rows();
    }

    /** Id of the last committed document, or null when nothing is committed. */
    public String lastCommittedDocumentId() {
        List<ShardEntry> shards = manifest.shards();
        return shards.isEmpty() ? null : shards.get(shards.size() - 1).lastDocumentId();
    }

    /** Documents begun so far, committed or not. */
    public long documentsWritten() {
        return documentIndex + (documentOpen ? 1 : 0);
    }

    /** Starts the next document; its index is {@link #documentsWritten()} before the call. */
    public long beginDocument(String docId, String domain) {
        ensureOpen();
        if (documentOpen) {
            throw new IllegalStateException("document " + documentIndex + " is still open; call endDocument first");
        }
        if (docId == null || docId.isEmpty()) {
            throw MoescopeException.badInput(dir, "document " + documentIndex + " has no id");
        }
        try {
            if (shard == null) {
                int index = manifest.shards().size();
                shard = new ShardBuilder(spec, index, dir.resolve(tempName(index)), allocator, manifest.rows(),
                        manifest.documents());
            }
        } catch (IOException e) {
            throw MoescopeException.failure(dir + ": cannot start a shard: " + e.getMessage(), e);
        }
        shard.beginDocument(docId, domain == null || domain.isEmpty() ? "unknown" : domain);
        documentOpen = true;
        documentPosition = 0;
        return documentIndex;
    }

    /** Appends the next tokens of the open document (positions continue where the last call stopped). */
    public void append(TokenRows rows) {
        ensureOpen();
        if (!documentOpen) {
            throw new IllegalStateException("no open document; call beginDocument first");
        }
        check(rows);
        try {
            shard.append(rows, documentIndex, documentPosition);
        } catch (IOException e) {
            throw MoescopeException.failure(dir + ": cannot write shard: " + e.getMessage(), e);
        }
        documentPosition += rows.size();
    }

    /** Ends the open document; commits the shard when it has reached {@link StoreSpec#shardRows()}. */
    public void endDocument() {
        ensureOpen();
        if (!documentOpen) {
            throw new IllegalStateException("no open document");
        }
        if (documentPosition == 0) {
            // a document without tokens has no rows to carry it: drop it so the writer stays usable
            shard.cancelEmptyDocument();
            documentOpen = false;
            throw MoescopeException.badInput(dir, "document " + documentIndex + " has no tokens (skip it before writing)");
        }
        documentOpen = false;
        documentIndex++;
        if (shard.rows() >= spec.shardRows()) {
            commit();
        }
    }

    /** Commits the current shard now (between documents): everything appended so far becomes durable. */
    public void commit() {
        ensureOpen();
        if (documentOpen) {
            throw new IllegalStateException("cannot commit inside a document");
        }
        if (shard == null || shard.documents() == 0) {
            return;
        }
        ShardBuilder s = shard;
        shard = null;
        String name = ShardEntry.directoryName(s.index());
        try {
            ShardEntry entry = s.finish(name);
            s.close();
            AtomicFiles.moveAtomically(s.dir(), dir.resolve(name));
            AtomicFiles.syncDirectory(dir);
            Manifest next = manifest.withShard(entry);
            next.write(dir);
            manifest = next;
        } catch (IOException e) {
            s.close();
            throw MoescopeException.failure(dir + ": cannot commit " + name + ": " + e.getMessage(), e);
        }
    }

    private void check(TokenRows rows) {
        int n = rows.size();
        if (n == 0) {
            return;
        }
        for (String name : rows.hooks().keySet()) {
            if (spec.hook(name) == null) {
                throw MoescopeException.badInput(dir, "refusing to append hook '" + name + "': the store has "
                        + spec.hooks().stream().map(HookSpec::name).toList());
            }
        }
        for (HookSpec h : spec.hooks()) {
            float[] v = rows.hooks().get(h.name());
            if (v == null) {
                throw MoescopeException.badInput(dir, "rows lack hook '" + h.name() + "' that the store records");
            }
            int available = v.length - rows.hookOffset(h.name());
            if (available < (long) n * h.width()) {
                throw MoescopeException.badInput(dir, "hook '" + h.name() + "' has width " + h.width() + " in the store but "
                        + n + " rows came with " + available + " values (" + (available / n) + " per row)");
            }
        }
        for (Integer layer : rows.expertIds().keySet()) {
            if (spec.routingOf(layer) == null) {
                throw MoescopeException.badInput(dir, "refusing to append routing of layer " + layer
                        + ": the store routes layers " + spec.routing().stream().map(RoutingSpec::layer).toList());
            }
        }
        for (RoutingSpec r : spec.routing()) {
            int[] ids = rows.expertIds().get(r.layer());
            float[] w = rows.gateWeights().get(r.layer());
            if (ids == null || w == null) {
                throw MoescopeException.badInput(dir, "rows lack routing of layer " + r.layer());
            }
            if (ids.length < n * r.topK() || w.length < n * r.topK()) {
                throw MoescopeException.badInput(dir, "routing of layer " + r.layer() + " has top-k " + r.topK()
                        + " in the store but came with " + ids.length / n + " ids per row");
            }
            for (int i = 0; i < n * r.topK(); i++) {
                if (ids[i] < 0 || ids[i] >= r.experts()) {
                    throw MoescopeException.badInput(dir, "expert id " + ids[i] + " out of range [0, " + r.experts()
                            + ") in layer " + r.layer());
                }
            }
        }
        if (rows.hasTexts() != spec.tokenText()) {
            throw MoescopeException.badInput(dir, spec.tokenText() ? "the store records token text but rows came without it"
                    : "rows carry token text but the store was created without token text");
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            FileTrees.delete(p);
        } catch (IOException ignored) {
            // a leftover temporary directory is ignored by readers and removed by a resume
        }
    }

    private static String tempName(int index) {
        return "." + ShardEntry.directoryName(index) + ".tmp";
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("writer is closed");
        }
    }

    /**
     * Commits what is complete and releases the store. If a document is still open (the caller failed midway),
     * the uncommitted shard is abandoned exactly as after a crash: committed shards stay, and a resume redoes
     * the documents after them.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        try {
            if (!documentOpen) {
                commit();
            } else if (shard != null) {
                shard.close();
                shard = null;
            }
        } finally {
            closed = true;
            if (shard != null) {
                shard.close();
                if (shard.documents() == 0) {
                    deleteQuietly(shard.dir()); // nothing in it worth a resume's attention
                }
            }
            try {
                allocator.close();
            } finally {
                lock.close();
            }
        }
    }
}
