package dev.moescope.store;

import dev.moescope.store.arrow.ChecksummedChannel;
import dev.moescope.store.arrow.Columns;
import dev.moescope.store.arrow.StoreSchemas;
import dev.moescope.store.arrow.TableMetadata;
import dev.moescope.store.manifest.FileEntry;
import dev.moescope.store.manifest.Manifest;
import dev.moescope.store.manifest.ShardEntry;

import org.apache.arrow.compression.CommonsCompressionFactory;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.compression.CompressionCodec;
import org.apache.arrow.vector.compression.CompressionUtil;
import org.apache.arrow.vector.compression.NoCompressionCodec;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One shard being written in its temporary directory. Hook and routing tables stream to disk one record batch
 * at a time (memory: one batch per table); the small tokens table is kept in compact arrays and written at the
 * end, when the shard's set of domains (its dictionary) is known. All tables share the same batch boundaries.
 */
final class ShardBuilder implements AutoCloseable {

    private final StoreSpec spec;
    private final int index;
    private final Path dir;
    private final BufferAllocator allocator;
    private final long firstRow;
    private final long firstDocument;
    private final List<Table> hookTables = new ArrayList<>();
    private final List<Table> routingTables = new ArrayList<>();
    /** The tokens table, once {@link #finish} has written it. */
    private Table tokensTable;
    private int batchFill;
    private long rows;

    // tokens, kept until the end of the shard
    private long[] docIndex = new long[1024];
    private int[] position = new int[1024];
    private int[] tokenId = new int[1024];
    private int[] docSlot = new int[1024];
    private final List<String> tokenTexts;
    private final List<String> docIds = new ArrayList<>();
    private final List<String> docDomains = new ArrayList<>();
    private final Map<String, Long> domainRows = new LinkedHashMap<>();

    /** One streamed table: a reused batch root and its IPC file writer. */
    private static final class Table {
        final String fileName;
        final VectorSchemaRoot root;
        final ChecksummedChannel channel;
        final ArrowFileWriter writer;

        Table(String fileName, VectorSchemaRoot root, ChecksummedChannel channel, ArrowFileWriter writer) {
            this.fileName = fileName;
            this.root = root;
            this.channel = channel;
            this.writer = writer;
        }
    }

    ShardBuilder(StoreSpec spec, int index, Path dir, BufferAllocator allocator, long firstRow, long firstDocument)
            throws IOException {
        this.spec = spec;
        this.index = index;
        this.dir = dir;
        this.allocator = allocator;
        this.firstRow = firstRow;
        this.firstDocument = firstDocument;
        this.tokenTexts = spec.tokenText() ? new ArrayList<>() : null;
        java.nio.file.Files.createDirectories(dir);
        for (HookSpec h : spec.hooks()) {
            TableMetadata meta = meta("hook", h.name(), -1, h.width(), h.dtype().label());
            hookTables.add(open(h.fileName(), StoreSchemas.hook(h.name(), h.width(), h.dtype(), meta), null));
        }
        for (RoutingSpec r : spec.routing()) {
            TableMetadata meta = meta("routing", null, r.layer(), r.topK(), null);
            routingTables.add(open(r.fileName(), StoreSchemas.routing(r.topK(), meta), null));
        }
    }

    private TableMetadata meta(String table, String hook, int layer, int width, String dtype) {
        return new TableMetadata(Manifest.FORMAT_VERSION, table, hook, layer, width, dtype,
                spec.model().toString(), spec.tokenizer().toString(), index, firstRow);
    }

    private Table open(String fileName, Schema schema, DictionaryProvider dictionaries) throws IOException {
        VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
        ChecksummedChannel channel = null;
        try {
            for (var v : root.getFieldVectors()) {
                if (v instanceof FixedSizeListVector list) {
                    Columns.allocate(list, spec.batchRows());
                }
            }
            channel = new ChecksummedChannel(dir.resolve(fileName));
            ArrowFileWriter writer = spec.compression() == StoreCompression.ZSTD
                    ? new ArrowFileWriter(root, dictionaries, channel, schema.getCustomMetadata(), IpcOption.DEFAULT,
                    CommonsCompressionFactory.INSTANCE, CompressionUtil.CodecType.ZSTD, Optional.empty())
                    : new ArrowFileWriter(root, dictionaries, channel, schema.getCustomMetadata(), IpcOption.DEFAULT,
                    NoCompressionCodec.Factory.INSTANCE, CompressionUtil.CodecType.NO_COMPRESSION);
            writer.start();
            return new Table(fileName, root, channel, writer);
        } catch (IOException | RuntimeException e) {
            root.close();
            if (channel != null) {
                channel.close();
            }
            throw e;
        }
    }

    long rows() {
        return rows;
    }

    long documents() {
        return docIds.size();
    }

    /** Starts a document in this shard; returns its slot. */
    void beginDocument(String docId, String domain) {
        docIds.add(docId);
        docDomains.add(domain);
    }

    /** Forgets the document just begun, which received no tokens. */
    void cancelEmptyDocument() {
        docIds.remove(docIds.size() - 1);
        docDomains.remove(docDomains.size() - 1);
    }

    /** Appends {@code rows} (already validated) of the current document starting at {@code firstPosition}. */
    void append(TokenRows in, long docIdx, int firstPosition) throws IOException {
        int n = in.size();
        int done = 0;
        String domain = docDomains.get(docDomains.size() - 1);
        domainRows.merge(domain, (long) n, Long::sum);
        while (done < n) {
            int take = Math.min(n - done, spec.batchRows() - batchFill);
            for (int h = 0; h < spec.hooks().size(); h++) {
                HookSpec hs = spec.hooks().get(h);
                FixedSizeListVector v = (FixedSizeListVector) hookTables.get(h).root.getVector(0);
                Columns.putFloats(v, hs.dtype(), batchFill, in.hooks().get(hs.name()),
                        in.hookOffset(hs.name()) + done * hs.width(), take, hs.width());
            }
            for (int r = 0; r < spec.routing().size(); r++) {
                RoutingSpec rs = spec.routing().get(r);
                VectorSchemaRoot root = routingTables.get(r).root;
                Columns.putInts((FixedSizeListVector) root.getVector(0), batchFill, in.expertIds().get(rs.layer()),
                        done * rs.topK(), take, rs.topK());
                Columns.putFloats((FixedSizeListVector) root.getVector(1), Dtype.FLOAT32, batchFill,
                        in.gateWeights().get(rs.layer()), done * rs.topK(), take, rs.topK());
            }
            batchFill += take;
            done += take;
            if (batchFill == spec.batchRows()) {
                flushBatch();
            }
        }
        ensureTokenCapacity(rows + n);
        int slot = docIds.size() - 1;
        for (int i = 0; i < n; i++) {
            int at = (int) (rows + i);
            docIndex[at] = docIdx;
            position[at] = firstPosition + i;
            tokenId[at] = in.tokenId(i);
            docSlot[at] = slot;
            if (tokenTexts != null) {
                tokenTexts.add(in.text(i));
            }
        }
        rows += n;
    }

    private void ensureTokenCapacity(long needed) {
        if (needed > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("a shard cannot hold more than 2^31 rows; commit more often");
        }
        if (needed > docIndex.length) {
            int cap = (int) Math.min(Integer.MAX_VALUE - 8, Math.max(needed, docIndex.length * 2L));
            docIndex = Arrays.copyOf(docIndex, cap);
            position = Arrays.copyOf(position, cap);
            tokenId = Arrays.copyOf(tokenId, cap);
            docSlot = Arrays.copyOf(docSlot, cap);
        }
    }

    private void flushBatch() throws IOException {
        if (batchFill == 0) {
            return;
        }
        for (Table t : hookTables) {
            Columns.seal((FixedSizeListVector) t.root.getVector(0), batchFill);
            t.root.setRowCount(batchFill);
            t.writer.writeBatch();
        }
        for (Table t : routingTables) {
            Columns.seal((FixedSizeListVector) t.root.getVector(0), batchFill);
            Columns.seal((FixedSizeListVector) t.root.getVector(1), batchFill);
            t.root.setRowCount(batchFill);
            t.writer.writeBatch();
        }
        batchFill = 0;
    }

    /**
     * Finishes every file of the shard (footers written, bytes and the shard directory forced to disk) and
     * describes it; the caller then renames the directory into place and updates the manifest.
     */
    ShardEntry finish(String directoryName) throws IOException {
        flushBatch();
        List<Table> all = new ArrayList<>();
        tokensTable = writeTokens();
        all.add(tokensTable);
        all.addAll(hookTables);
        all.addAll(routingTables);
        List<ChecksummedChannel> channels = new ArrayList<>();
        for (Table t : all) {
            t.writer.end(); // footer: the file is complete
            channels.add(t.channel);
        }
        ChecksummedChannel.forceAll(channels, dir); // the files and their names in the shard directory
        List<FileEntry> files = new ArrayList<>();
        for (Table t : all) {
            t.writer.close();
            t.channel.close();
            files.add(new FileEntry(t.fileName, t.channel.bytes(), t.channel.crc32c()));
        }
        return new ShardEntry(index, directoryName, firstRow, rows, firstDocument, docIds.size(),
                docIds.get(docIds.size() - 1), spec.batchRows(), Map.copyOf(domainRows), files);
    }

    /** Writes the tokens table (footer included, not yet forced); its buffers are released, its file stays open. */
    private Table writeTokens() throws IOException {
        TableMetadata meta = meta("tokens", null, -1, 0, null);
        Schema schema = StoreSchemas.tokens(spec.tokenText(), meta);
        List<String> domains = new ArrayList<>(new java.util.LinkedHashSet<>(docDomains));
        Map<String, Integer> domainCode = new LinkedHashMap<>();
        for (String d : domains) {
            domainCode.put(d, domainCode.size());
        }
        DictionaryEncoding enc = new DictionaryEncoding(StoreSchemas.DOMAIN_DICTIONARY_ID, false, new ArrowType.Int(32, true));
        try (VarCharVector dict = new VarCharVector("domain", FieldType.notNullable(new ArrowType.Utf8()), allocator)) {
            dict.allocateNew(domains.size());
            for (int i = 0; i < domains.size(); i++) {
                dict.setSafe(i, domains.get(i).getBytes(StandardCharsets.UTF_8));
            }
            dict.setValueCount(domains.size());
            DictionaryProvider.MapDictionaryProvider provider = new DictionaryProvider.MapDictionaryProvider();
            provider.put(new Dictionary(dict, enc));
            Table t = open(Manifest.TOKENS_FILE, schema, provider);
            try {
                BigIntVector di = (BigIntVector) t.root.getVector(StoreSchemas.DOC_INDEX);
                IntVector pos = (IntVector) t.root.getVector(StoreSchemas.POSITION);
                IntVector tok = (IntVector) t.root.getVector(StoreSchemas.TOKEN_ID);
                VarCharVector id = (VarCharVector) t.root.getVector(StoreSchemas.DOC_ID);
                IntVector dom = (IntVector) t.root.getVector(StoreSchemas.DOMAIN);
                VarCharVector text = spec.tokenText() ? (VarCharVector) t.root.getVector(StoreSchemas.TOKEN) : null;
                byte[][] idBytes = new byte[docIds.size()][];
                int[] slotDomain = new int[docIds.size()];
                for (int s = 0; s < docIds.size(); s++) {
                    idBytes[s] = docIds.get(s).getBytes(StandardCharsets.UTF_8);
                    slotDomain[s] = domainCode.get(docDomains.get(s));
                }
                for (long start = 0; start < rows; start += spec.batchRows()) {
                    int n = (int) Math.min(spec.batchRows(), rows - start);
                    t.root.allocateNew();
                    for (int i = 0; i < n; i++) {
                        int at = (int) (start + i);
                        di.setSafe(i, docIndex[at]);
                        pos.setSafe(i, position[at]);
                        tok.setSafe(i, tokenId[at]);
                        id.setSafe(i, idBytes[docSlot[at]]);
                        dom.setSafe(i, slotDomain[docSlot[at]]);
                        if (text != null) {
                            String s = tokenTexts.get(at);
                            if (s == null) {
                                text.setNull(i);
                            } else {
                                text.setSafe(i, s.getBytes(StandardCharsets.UTF_8));
                            }
                        }
                    }
                    t.root.setRowCount(n);
                    t.writer.writeBatch();
                }
                t.writer.end();
                return t;
            } catch (IOException | RuntimeException e) {
                closeQuietly(t);
                throw e;
            } finally {
                t.root.close();
            }
        }
    }

    /** Releases every buffer and open file; files of an unfinished shard stay in its temporary directory. */
    @Override
    public void close() {
        for (Table t : hookTables) {
            closeQuietly(t);
        }
        for (Table t : routingTables) {
            closeQuietly(t);
        }
        if (tokensTable != null) {
            closeQuietly(tokensTable);
        }
    }

    private static void closeQuietly(Table t) {
        try {
            t.root.close();
        } catch (RuntimeException ignored) {
            // already closed
        }
        try {
            t.channel.close();
        } catch (IOException ignored) {
            // abandoning the shard anyway
        }
    }

    int index() {
        return index;
    }

    Path dir() {
        return dir;
    }

    static CompressionCodec.Factory codecs() {
        return CommonsCompressionFactory.INSTANCE;
    }
}
