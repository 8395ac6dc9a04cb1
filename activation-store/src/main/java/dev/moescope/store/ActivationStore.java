package dev.moescope.store;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.store.arrow.MappedArrowFile;
import dev.moescope.store.arrow.StoreSchemas;
import dev.moescope.store.arrow.TableMetadata;
import dev.moescope.store.manifest.FileEntry;
import dev.moescope.store.manifest.Manifest;
import dev.moescope.store.manifest.ShardEntry;
import dev.moescope.store.stream.ShuffleConfig;
import dev.moescope.store.stream.ShuffledBatches;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.Dictionary;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.stream.Stream;

/**
 * A store opened for reading. Opening reads the manifest and checks that every listed file exists with its
 * listed size (so a truncated or missing shard is reported at once, naming the file); files are opened lazily,
 * memory-mapped, and checked against the manifest (table kind, hook, width, dtype, rows) on first use. Nothing is
 * loaded whole: reads go record batch by record batch.
 *
 * <pre>{@code
 * try (ActivationStore store = ActivationStore.open(dir)) {
 *     HookSpec h = store.hook("blocks.0.resid_post");
 *     float[] first100 = store.readHook(h.name(), 0, 100);             // [100, width]
 *     for (HookChunk c : store.hookChunks(h.name())) { ... }           // zero-copy views
 *     try (ShuffledBatches b = store.shuffled(h.name(), ShuffleConfig.training(4096, seed))) {
 *         for (HookBatch batch; (batch = b.next()) != null; ) { float[] x = batch.values(); ... }
 *     }
 * }
 * }</pre>
 *
 * <p>Not thread-safe: open one per thread (opening is cheap).
 */
public final class ActivationStore implements AutoCloseable {

    private static final int MAX_OPEN_FILES = 64;

    private final Path dir;
    private final Manifest manifest;
    private final List<Chunk> chunks = new ArrayList<>();
    private final long[] chunkStarts;
    private final BufferAllocator allocator = new RootAllocator();
    private final Map<String, MappedArrowFile> open = new LinkedHashMap<>(16, 0.75f, true);
    private final Map<String, String[]> dictionaries = new LinkedHashMap<>();

    private ActivationStore(Path dir, Manifest manifest) {
        this.dir = dir;
        this.manifest = manifest;
        for (ShardEntry s : manifest.shards()) {
            for (int b = 0; b < s.batches(); b++) {
                long first = s.firstRow() + (long) b * s.batchRows();
                int rows = (int) Math.min(s.batchRows(), s.rows() - (long) b * s.batchRows());
                chunks.add(new Chunk(s.index(), b, first, rows));
            }
        }
        chunkStarts = new long[chunks.size()];
        for (int i = 0; i < chunks.size(); i++) {
            chunkStarts[i] = chunks.get(i).firstRow();
        }
    }

    /** Opens the store at {@code dir}; every problem is a one-line bad-input error naming the file at fault. */
    public static ActivationStore open(Path dir) {
        Manifest m = Manifest.read(dir);
        for (ShardEntry s : m.shards()) {
            Path shardDir = dir.resolve(s.directory());
            if (!Files.isDirectory(shardDir)) {
                throw MoescopeException.badInput(shardDir, "shard " + s.index() + " listed in the manifest is missing");
            }
            for (FileEntry f : s.files()) {
                Path p = shardDir.resolve(f.name());
                long size;
                try {
                    size = Files.size(p);
                } catch (IOException e) {
                    throw MoescopeException.badInput(p, "file of shard " + s.index() + " is missing");
                }
                if (size != f.bytes()) {
                    throw MoescopeException.badInput(p, (size < f.bytes() ? "truncated" : "grown") + ": " + size
                            + " bytes on disk, manifest says " + f.bytes());
                }
            }
        }
        return new ActivationStore(dir, m);
    }

    public Path directory() {
        return dir;
    }

    public Manifest manifest() {
        return manifest;
    }

    public long rows() {
        return manifest.rows();
    }

    public long documents() {
        return manifest.documents();
    }

    public Identity model() {
        return manifest.model();
    }

    public Identity tokenizer() {
        return manifest.tokenizer();
    }

    public List<HookSpec> hooks() {
        return manifest.hooks();
    }

    public List<RoutingSpec> routing() {
        return manifest.routing();
    }

    /** Record batches in store order. */
    public List<Chunk> chunks() {
        return List.copyOf(chunks);
    }

    /** The hook called {@code name}; a bad-input error listing the store's hooks if there is none. */
    public HookSpec hook(String name) {
        HookSpec h = manifest.hook(name);
        if (h == null) {
            throw MoescopeException.badInput(dir, "no hook '" + name + "' in this store (hooks: "
                    + String.join(", ", manifest.hooks().stream().map(HookSpec::name).toList()) + ")");
        }
        return h;
    }

    /** The routing of {@code layer}; a bad-input error if the store does not route it. */
    public RoutingSpec routingOf(int layer) {
        RoutingSpec r = manifest.routingOf(layer);
        if (r == null) {
            throw MoescopeException.badInput(dir, "no routing for layer " + layer + " in this store (layers: "
                    + manifest.routing().stream().map(RoutingSpec::layer).toList() + ")");
        }
        return r;
    }

    /** Directories a crashed writer left behind (ignored by readers, deleted by a resume). */
    public List<String> uncommittedDirectories() {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                String name = p.getFileName().toString();
                if (Files.isDirectory(p) && (name.startsWith(".shard-") || (name.startsWith("shard-")
                        && manifest.shards().stream().noneMatch(e -> e.directory().equals(name))))) {
                    out.add(name);
                }
            }
        } catch (IOException e) {
            throw MoescopeException.badInput(dir, "cannot list: " + e.getMessage(), e);
        }
        return out;
    }

    /** Bytes of all committed files. */
    public long bytesOnDisk() {
        long n = 0;
        for (ShardEntry s : manifest.shards()) {
            for (FileEntry f : s.files()) {
                n += f.bytes();
            }
        }
        return n;
    }

    // ---------------------------------------------------------------- row-range reads

    /** Rows {@code [firstRow, firstRow + rows)} of {@code hook}, row-major {@code float[rows * width]}. */
    public float[] readHook(String hook, long firstRow, int rows) {
        HookSpec h = hook(hook);
        float[] out = new float[Math.multiplyExact(rows, h.width())];
        readHook(hook, firstRow, rows, out, 0);
        return out;
    }

    /** Copies rows {@code [firstRow, firstRow + rows)} of {@code hook} into {@code dst} at {@code dstOffset}. */
    public void readHook(String hook, long firstRow, int rows, float[] dst, int dstOffset) {
        HookSpec h = hook(hook);
        checkRange(firstRow, rows);
        if (h.sparse()) {
            java.util.Arrays.fill(dst, dstOffset, dstOffset + rows * h.width(), 0f);
            readSparse(hook, firstRow, rows).scatterInto(dst, dstOffset);
            return;
        }
        int done = 0;
        while (done < rows) {
            Chunk c = chunkOf(firstRow + done);
            int from = (int) (firstRow + done - c.firstRow());
            int take = Math.min(rows - done, c.rows() - from);
            hookFile(c.shard(), h).readFloats(c.batch(), 0, h.dtype(), h.width(), from, take, dst,
                    dstOffset + done * h.width());
            done += take;
        }
    }

    /**
     * Rows {@code [firstRow, firstRow + rows)} of {@code hook} as a read-only view of the memory-mapped file, without
     * copying; null where there is no such view (the rows span two record batches, or the hook is float16, sparse
     * or compressed): read a copy with {@link #readHook(String, long, int, float[], int)} then.
     */
    public FloatBuffer hookView(String hook, long firstRow, int rows) {
        HookSpec h = hook(hook);
        checkRange(firstRow, rows);
        if (h.sparse() || h.dtype() != Dtype.FLOAT32 || rows == 0) {
            return null;
        }
        Chunk c = chunkOf(firstRow);
        int from = (int) (firstRow - c.firstRow());
        if (from + rows > c.rows()) {
            return null;
        }
        FloatBuffer view = hookFile(c.shard(), h).floatView(c.batch(), 0);
        return view == null ? null : view.slice(from * h.width(), rows * h.width()).asReadOnlyBuffer();
    }

    /** Rows {@code [firstRow, firstRow + rows)} of a sparse hook, in compressed sparse row form. */
    public SparseRows readSparse(String hook, long firstRow, int rows) {
        HookSpec h = hook(hook);
        if (!h.sparse()) {
            throw MoescopeException.usage("hook " + hook + " is dense; read it with readHook");
        }
        checkRange(firstRow, rows);
        int[] offsets = new int[rows + 1];
        int[] indices = new int[Math.max(16, rows)];
        float[] values = new float[indices.length];
        int count = 0;
        int done = 0;
        while (done < rows) {
            Chunk c = chunkOf(firstRow + done);
            int from = (int) (firstRow + done - c.firstRow());
            int take = Math.min(rows - done, c.rows() - from);
            MappedArrowFile f = hookFile(c.shard(), h);
            VectorSchemaRoot root = f.load(c.batch());
            org.apache.arrow.vector.complex.ListVector iv = (org.apache.arrow.vector.complex.ListVector) root.getVector(0);
            org.apache.arrow.vector.complex.ListVector vv = (org.apache.arrow.vector.complex.ListVector) root.getVector(1);
            IntVector ic = (IntVector) iv.getDataVector();
            org.apache.arrow.vector.Float4Vector vc = (org.apache.arrow.vector.Float4Vector) vv.getDataVector();
            for (int r = 0; r < take; r++) {
                int start = iv.getElementStartIndex(from + r);
                int end = iv.getElementEndIndex(from + r);
                if (vv.getElementStartIndex(from + r) != start || vv.getElementEndIndex(from + r) != end) {
                    throw MoescopeException.badInput(f.path(), "indices and values differ in length at row "
                            + (c.firstRow() + from + r));
                }
                int n = end - start;
                if (count + n > indices.length) {
                    int cap = Math.max(count + n, indices.length * 2);
                    indices = java.util.Arrays.copyOf(indices, cap);
                    values = java.util.Arrays.copyOf(values, cap);
                }
                for (int i = 0; i < n; i++) {
                    int idx = ic.get(start + i);
                    if (idx < 0 || idx >= h.width()) {
                        throw MoescopeException.badInput(f.path(), "latent index " + idx + " outside [0, " + h.width()
                                + ") at row " + (c.firstRow() + from + r));
                    }
                    indices[count + i] = idx;
                    values[count + i] = vc.get(start + i);
                }
                count += n;
                offsets[done + r + 1] = count;
            }
            done += take;
        }
        return new SparseRows(firstRow, h.width(), offsets, java.util.Arrays.copyOf(indices, count),
                java.util.Arrays.copyOf(values, count));
    }

    /** Document index of each row of {@code [firstRow, firstRow + rows)}. */
    public long[] readDocumentIndex(long firstRow, int rows) {
        checkRange(firstRow, rows);
        long[] out = new long[rows];
        int done = 0;
        while (done < rows) {
            Chunk c = chunkOf(firstRow + done);
            int from = (int) (firstRow + done - c.firstRow());
            int take = Math.min(rows - done, c.rows() - from);
            tokensFile(c.shard()).readLongs(c.batch(), 0, from, take, out, done);
            done += take;
        }
        return out;
    }

    /** Tokens of rows {@code [firstRow, firstRow + rows)}. */
    public TokenColumns readTokens(long firstRow, int rows) {
        checkRange(firstRow, rows);
        long[] docIndex = new long[rows];
        String[] docId = new String[rows];
        String[] domain = new String[rows];
        int[] position = new int[rows];
        int[] tokenId = new int[rows];
        String[] text = manifest.tokenText() ? new String[rows] : null;
        int done = 0;
        while (done < rows) {
            Chunk c = chunkOf(firstRow + done);
            int from = (int) (firstRow + done - c.firstRow());
            int take = Math.min(rows - done, c.rows() - from);
            MappedArrowFile f = tokensFile(c.shard());
            f.readLongs(c.batch(), 0, from, take, docIndex, done);
            f.readInts(c.batch(), 1, 1, from, take, position, done);
            f.readInts(c.batch(), 2, 1, from, take, tokenId, done);
            VectorSchemaRoot root = f.load(c.batch());
            VarCharVector ids = (VarCharVector) root.getVector(StoreSchemas.DOC_ID);
            IntVector codes = (IntVector) root.getVector(StoreSchemas.DOMAIN);
            VarCharVector texts = text == null ? null : (VarCharVector) root.getVector(StoreSchemas.TOKEN);
            String[] labels = domainLabels(c.shard(), f);
            String lastId = null;
            byte[] lastBytes = null;
            for (int i = 0; i < take; i++) {
                byte[] b = ids.get(from + i);
                if (lastBytes == null || !java.util.Arrays.equals(b, lastBytes)) {
                    lastBytes = b;
                    lastId = new String(b, StandardCharsets.UTF_8);
                }
                docId[done + i] = lastId;
                int code = codes.get(from + i);
                if (code < 0 || code >= labels.length) {
                    throw MoescopeException.badInput(f.path(), "domain code " + code + " outside the dictionary");
                }
                domain[done + i] = labels[code];
                if (texts != null) {
                    text[done + i] = texts.isNull(from + i) ? null : new String(texts.get(from + i), StandardCharsets.UTF_8);
                }
            }
            done += take;
        }
        return new TokenColumns(firstRow, docIndex, docId, domain, position, tokenId, text);
    }

    /** Routing of {@code layer} for rows {@code [firstRow, firstRow + rows)}. */
    public RoutingColumns readRouting(int layer, long firstRow, int rows) {
        RoutingSpec r = routingOf(layer);
        checkRange(firstRow, rows);
        int[] ids = new int[rows * r.topK()];
        float[] weights = new float[rows * r.topK()];
        int done = 0;
        while (done < rows) {
            Chunk c = chunkOf(firstRow + done);
            int from = (int) (firstRow + done - c.firstRow());
            int take = Math.min(rows - done, c.rows() - from);
            MappedArrowFile f = routingFile(c.shard(), r);
            f.readInts(c.batch(), 0, r.topK(), from, take, ids, done * r.topK());
            f.readFloats(c.batch(), 1, Dtype.FLOAT32, r.topK(), from, take, weights, done * r.topK());
            done += take;
        }
        return new RoutingColumns(layer, r.topK(), firstRow, ids, weights);
    }

    // ---------------------------------------------------------------- streaming

    /**
     * The hook's record batches in store order. For an uncompressed float32 store each chunk's values are a
     * read-only view of the mapped file (zero copy); otherwise a decoded copy (dense, for sparse hooks). A view stays valid while the store
     * is open.
     */
    public Iterable<HookChunk> hookChunks(String hook) {
        HookSpec h = hook(hook);
        return () -> new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < chunks.size();
            }

            @Override
            public HookChunk next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Chunk c = chunks.get(next++);
                MappedArrowFile f = hookFile(c.shard(), h);
                FloatBuffer view = h.dtype() == Dtype.FLOAT32 && !h.sparse() ? f.floatView(c.batch(), 0) : null;
                if (view == null) {
                    float[] copy = new float[c.rows() * h.width()];
                    readHook(h.name(), c.firstRow(), c.rows(), copy, 0);
                    view = FloatBuffer.wrap(copy);
                } else {
                    view = view.slice(0, c.rows() * h.width()).asReadOnlyBuffer();
                }
                return new HookChunk(c.firstRow(), c.rows(), h.width(), view);
            }
        };
    }

    /**
     * Seeded shuffled (or sequential) batches of one hook, restricted to the training or validation documents;
     * see {@link ShuffleConfig}. Memory: the shuffle buffer plus one chunk.
     */
    public ShuffledBatches shuffled(String hook, ShuffleConfig config) {
        return new ShuffledBatches(List.of(this), List.of(hook(hook)), config);
    }

    // ---------------------------------------------------------------- files

    /** The chunk holding global row {@code row}. */
    public Chunk chunkOf(long row) {
        int i = java.util.Arrays.binarySearch(chunkStarts, row);
        if (i < 0) {
            i = -i - 2;
        }
        return chunks.get(i);
    }

    private void checkRange(long firstRow, int rows) {
        if (firstRow < 0 || rows < 0 || firstRow + rows > manifest.rows()) {
            throw MoescopeException.usage("rows [" + firstRow + ", " + (firstRow + rows) + ") outside the store's "
                    + manifest.rows() + " rows");
        }
    }

    /** The tokens file of {@code shard}, mapped and checked. */
    public MappedArrowFile tokensFile(int shard) {
        return file(shard, Manifest.TOKENS_FILE, "tokens", null, -1, 0, null);
    }

    /** The file of {@code hook} in {@code shard}, mapped and checked. */
    public MappedArrowFile hookFile(int shard, HookSpec hook) {
        return file(shard, hook.fileName(), hook.sparse() ? "sparse_hook" : "hook", hook.name(), -1, hook.width(),
                hook.dtype().label());
    }

    /** The routing file of {@code routing}'s layer in {@code shard}, mapped and checked. */
    public MappedArrowFile routingFile(int shard, RoutingSpec routing) {
        return file(shard, routing.fileName(), "routing", null, routing.layer(), routing.topK(), null);
    }

    private MappedArrowFile file(int shard, String name, String table, String hook, int layer, int width, String dtype) {
        String key = shard + "/" + name;
        MappedArrowFile f = open.get(key);
        if (f != null) {
            return f;
        }
        ShardEntry s = manifest.shards().get(shard);
        Path p = dir.resolve(s.directory()).resolve(name);
        f = MappedArrowFile.open(p, allocator);
        try {
            checkAgainstManifest(f, s, table, hook, layer, width, dtype);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
        open.put(key, f);
        if (open.size() > MAX_OPEN_FILES) {
            Iterator<Map.Entry<String, MappedArrowFile>> it = open.entrySet().iterator();
            Map.Entry<String, MappedArrowFile> eldest = it.next();
            it.remove();
            dictionaries.remove(eldest.getKey());
            eldest.getValue().close();
        }
        return f;
    }

    private void checkAgainstManifest(MappedArrowFile f, ShardEntry s, String table, String hook, int layer, int width,
                                      String dtype) {
        TableMetadata meta = f.metadata();
        Path p = f.path();
        if (meta == null) {
            throw MoescopeException.badInput(p, "no moescope.store schema metadata: not a store file");
        }
        if (meta.formatVersion() > Manifest.FORMAT_VERSION) {
            throw MoescopeException.badInput(p, "written by a newer store format (" + meta.formatVersion() + ")");
        }
        boolean ok = table.equals(meta.table()) && java.util.Objects.equals(hook, meta.hook())
                && (layer < 0 || layer == meta.layer()) && (width == 0 || width == meta.width())
                && (dtype == null || dtype.equals(meta.dtype())) && meta.shard() == s.index();
        if (!ok) {
            throw MoescopeException.badInput(p, "file describes " + meta.table() + " " + (meta.hook() != null ? meta.hook() : "")
                    + " width " + meta.width() + " " + (meta.dtype() != null ? meta.dtype() : "") + " of shard " + meta.shard()
                    + ", but the manifest expects " + table + " " + (hook != null ? hook : "") + " width " + width
                    + " " + (dtype != null ? dtype : "") + " of shard " + s.index());
        }
        if (f.batchCount() != s.batches()) {
            throw MoescopeException.badInput(p, f.batchCount() + " record batches, manifest implies " + s.batches());
        }
        for (int b = 0; b < s.batches(); b++) {
            int expected = (int) Math.min(s.batchRows(), s.rows() - (long) b * s.batchRows());
            if (f.batchRows(b) != expected) {
                throw MoescopeException.badInput(p, "record batch " + b + " has " + f.batchRows(b) + " rows, manifest implies "
                        + expected);
            }
        }
    }

    private String[] domainLabels(int shard, MappedArrowFile f) {
        String key = shard + "/" + Manifest.TOKENS_FILE;
        String[] labels = dictionaries.get(key);
        if (labels == null) {
            try {
                Dictionary d = f.reader().getDictionaryVectors().get(StoreSchemas.DOMAIN_DICTIONARY_ID);
                if (d == null) {
                    throw MoescopeException.badInput(f.path(), "domain dictionary missing");
                }
                VarCharVector v = (VarCharVector) d.getVector();
                labels = new String[v.getValueCount()];
                for (int i = 0; i < labels.length; i++) {
                    labels[i] = new String(v.get(i), StandardCharsets.UTF_8);
                }
            } catch (IOException e) {
                throw MoescopeException.badInput(f.path(), "cannot read the domain dictionary: " + e.getMessage(), e);
            }
            dictionaries.put(key, labels);
        }
        return labels;
    }

    @Override
    public void close() {
        for (MappedArrowFile f : open.values()) {
            f.close();
        }
        open.clear();
        allocator.close();
    }
}
