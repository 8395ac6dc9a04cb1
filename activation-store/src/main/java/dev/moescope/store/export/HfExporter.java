package dev.moescope.store.export;

import dev.moescope.core.Seeds;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.progress.Progress;
import dev.moescope.core.error.Require;
import dev.moescope.core.json.AtomicFiles;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.Chunk;
import dev.moescope.store.HookSpec;
import dev.moescope.store.TokenColumns;
import dev.moescope.store.arrow.Columns;
import dev.moescope.store.arrow.StoreSchemas;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Writes a directory that Hugging Face {@code datasets.load_from_disk} opens: uncompressed Arrow IPC
 * <em>stream</em> files {@code data-00000-of-0000N.arrow} (one per store shard, or per ~500 MB), plus
 * {@code state.json} and {@code dataset_info.json} with the features matching the Arrow types exactly.
 *
 * <p>Two layouts: one row per token ({@link #exportTokens}), and one row per context window
 * ({@link #exportSequences}), where each hook is an {@code Array2D(context, width)} column and {@code token_ids} a
 * fixed-length int32 sequence: the layout of SAELens's {@code CacheActivationsRunner}, which its
 * {@code ActivationsStore} reads with {@code use_cached_activations=True}.
 */
public final class HfExporter {

    /** Size at which a new data file is started ({@code datasets}'s own MAX_SHARD_SIZE). */
    private static final long MAX_FILE_BYTES = 500L << 20;

    private static final Gson HF_JSON = new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create();

    private HfExporter() {
    }

    /** What an export wrote. */
    public record Result(List<String> files, long rows, long droppedTokens) {
    }

    /** One row per token: tokens, routing and the given hooks (all hooks when empty). */
    public static Result exportTokens(ActivationStore store, List<String> hookNames, Path out, long seed) {
        List<HookSpec> hooks = select(store, hookNames);
        TokenRowTable table = new TokenRowTable(store, hooks, Map.of());
        Schema schema = withHfMetadata(table.schema(), table.features());
        prepare(out);
        List<Path> written = new ArrayList<>();
        try (BufferAllocator allocator = new RootAllocator();
             VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
             Progress progress = Progress.start("export hf", store.rows(), "row")) {
            FileSink sink = new FileSink(out, root, written);
            int shard = -1;
            for (Chunk c : store.chunks()) {
                progress.stepBy(c.rows());
                if (c.shard() != shard && sink.bytes() > 0) {
                    sink.next();
                }
                shard = c.shard();
                table.fill(root, c);
                sink.write();
                if (sink.bytes() > MAX_FILE_BYTES) {
                    sink.next();
                }
            }
            sink.close();
        } catch (IOException e) {
            throw MoescopeException.failure(out + ": cannot write: " + e.getMessage(), e);
        }
        List<String> names = finish(out, written, table.features(), seed,
                "moescope activation store " + store.directory().getFileName() + ", one row per token");
        return new Result(names, store.rows(), 0);
    }

    /**
     * One row per window of {@code context} consecutive tokens of one document (tails shorter than a window are
     * dropped and counted): an {@code Array2D(context, width)} column per hook named after the hook, plus
     * {@code token_ids}, {@code doc_index} and {@code start_position}.
     */
    public static Result exportSequences(ActivationStore store, List<String> hookNames, int context, Path out, long seed) {
        Require.positive("context", context);
        List<HookSpec> hooks = select(store, hookNames);
        for (HookSpec h : hooks) {
            if (h.sparse()) {
                throw MoescopeException.usage("hook " + h.name() + " is sparse; the sequences layout takes dense hooks"
                        + " (choose hooks with --hook)");
            }
        }
        List<Field> fields = new ArrayList<>();
        JsonObject features = new JsonObject();
        for (HookSpec h : hooks) {
            String dtype = h.dtype().label();
            Field inner = new Field("item", FieldType.nullable(new ArrowType.List()),
                    List.of(new Field("item", FieldType.nullable(StoreSchemas.arrowType(h.dtype())), null)));
            Map<String, String> ext = Map.of("ARROW:extension:name", HfFeatures.ARRAY2D_EXTENSION,
                    "ARROW:extension:metadata", HfFeatures.array2dMetadata(context, h.width(), dtype));
            fields.add(new Field(h.name(), new FieldType(true, new ArrowType.List(), null, ext), List.of(inner)));
            features.add(h.name(), HfFeatures.array2d(context, h.width(), dtype));
        }
        fields.add(new Field("token_ids", FieldType.nullable(new ArrowType.FixedSizeList(context)),
                List.of(new Field("item", FieldType.nullable(new ArrowType.Int(32, true)), null))));
        features.add("token_ids", HfFeatures.sequence("int32", context));
        fields.add(new Field(StoreSchemas.DOC_INDEX, FieldType.nullable(new ArrowType.Int(64, true)), null));
        features.add(StoreSchemas.DOC_INDEX, HfFeatures.value("int64"));
        fields.add(new Field("start_position", FieldType.nullable(new ArrowType.Int(32, true)), null));
        features.add("start_position", HfFeatures.value("int32"));
        Schema schema = withHfMetadata(new Schema(fields), features);

        long widest = hooks.stream().mapToLong(h -> (long) h.width() * context * 4).max().orElse(1);
        int batchSequences = (int) Math.max(1, Math.min(1000, (8L << 20) / widest));
        prepare(out);
        List<Path> written = new ArrayList<>();
        long sequences = 0;
        long dropped = 0;
        try (BufferAllocator allocator = new RootAllocator();
             VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
             Progress progress = Progress.start("export hf", store.rows(), "row")) {
            FileSink sink = new FileSink(out, root, written);
            SequenceBatch batch = new SequenceBatch(hooks, context, batchSequences);
            // the window being collected: rows of one document
            float[][] window = new float[hooks.size()][];
            for (int i = 0; i < hooks.size(); i++) {
                window[i] = new float[context * hooks.get(i).width()];
            }
            int[] windowTokens = new int[context];
            int fill = 0;
            long windowDoc = -1;
            int windowStart = 0;
            for (Chunk c : store.chunks()) {
                progress.stepBy(c.rows());
                TokenColumns t = store.readTokens(c.firstRow(), c.rows());
                float[][] values = new float[hooks.size()][];
                for (int i = 0; i < hooks.size(); i++) {
                    values[i] = store.readHook(hooks.get(i).name(), c.firstRow(), c.rows());
                }
                for (int r = 0; r < c.rows(); r++) {
                    if (t.docIndex()[r] != windowDoc) {
                        dropped += fill;
                        fill = 0;
                        windowDoc = t.docIndex()[r];
                    }
                    if (fill == 0) {
                        windowStart = t.position()[r];
                    }
                    for (int i = 0; i < hooks.size(); i++) {
                        int w = hooks.get(i).width();
                        System.arraycopy(values[i], r * w, window[i], fill * w, w);
                    }
                    windowTokens[fill++] = t.tokenId()[r];
                    if (fill == context) {
                        batch.add(window, windowTokens, windowDoc, windowStart);
                        fill = 0;
                        sequences++;
                        if (batch.full()) {
                            batch.fill(root);
                            sink.write();
                            if (sink.bytes() > MAX_FILE_BYTES) {
                                sink.next();
                            }
                        }
                    }
                }
            }
            dropped += fill;
            if (batch.size() > 0) {
                batch.fill(root);
                sink.write();
            }
            sink.close();
        } catch (IOException e) {
            throw MoescopeException.failure(out + ": cannot write: " + e.getMessage(), e);
        }
        if (sequences == 0) {
            throw MoescopeException.badInput(store.directory(), "no document has " + context
                    + " tokens: nothing to export as sequences (choose a smaller --context)");
        }
        List<String> names = finish(out, written, features, seed, "moescope activation store "
                + store.directory().getFileName() + ", one row per " + context + "-token window (SAELens layout)");
        return new Result(names, sequences, dropped);
    }

    /** Sequences collected for one record batch. */
    private static final class SequenceBatch {
        private final List<HookSpec> hooks;
        private final int context;
        private final int capacity;
        private final float[][] values;
        private final int[] tokens;
        private final long[] docs;
        private final int[] starts;
        private int size;

        SequenceBatch(List<HookSpec> hooks, int context, int capacity) {
            this.hooks = hooks;
            this.context = context;
            this.capacity = capacity;
            values = new float[hooks.size()][];
            for (int i = 0; i < hooks.size(); i++) {
                values[i] = new float[capacity * context * hooks.get(i).width()];
            }
            tokens = new int[capacity * context];
            docs = new long[capacity];
            starts = new int[capacity];
        }

        void add(float[][] window, int[] windowTokens, long doc, int start) {
            for (int i = 0; i < hooks.size(); i++) {
                int n = context * hooks.get(i).width();
                System.arraycopy(window[i], 0, values[i], size * n, n);
            }
            System.arraycopy(windowTokens, 0, tokens, size * context, context);
            docs[size] = doc;
            starts[size] = start;
            size++;
        }

        boolean full() {
            return size == capacity;
        }

        int size() {
            return size;
        }

        /** Fills {@code root} with the collected sequences and empties the batch. */
        void fill(VectorSchemaRoot root) {
            int col = 0;
            for (int i = 0; i < hooks.size(); i++) {
                HookSpec h = hooks.get(i);
                ListVector outer = (ListVector) root.getVector(col++);
                outer.clear();
                ListVector inner = (ListVector) outer.getDataVector();
                Float4Vector data = (Float4Vector) inner.getDataVector();
                int innerCount = size * context;
                int floats = innerCount * h.width();
                outer.setInitialCapacity(size);
                inner.setInitialCapacity(innerCount);
                data.setInitialCapacity(floats);
                outer.allocateNew();
                for (int s = 0; s < size; s++) {
                    outer.startNewValue(s);
                    outer.endValue(s, context);
                }
                for (int j = 0; j < innerCount; j++) {
                    inner.startNewValue(j);
                    inner.endValue(j, h.width());
                }
                ArrowBuf buf = data.getDataBuffer();
                if (buf.capacity() < (long) floats * 4) {
                    data.allocateNew(floats);
                    buf = data.getDataBuffer();
                }
                buf.nioBuffer(0, floats * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values[i], 0, floats);
                Columns.setAllValid(data.getValidityBuffer(), floats);
                data.setValueCount(floats);
                inner.setValueCount(innerCount);
                outer.setValueCount(size);
            }
            FixedSizeListVector ids = (FixedSizeListVector) root.getVector(col++);
            Columns.allocate(ids, size);
            Columns.putInts(ids, 0, tokens, 0, size, context);
            Columns.seal(ids, size);
            BigIntVector doc = (BigIntVector) root.getVector(col++);
            IntVector start = (IntVector) root.getVector(col);
            doc.allocateNew(size);
            start.allocateNew(size);
            for (int s = 0; s < size; s++) {
                doc.set(s, docs[s]);
                start.set(s, starts[s]);
            }
            root.setRowCount(size);
            size = 0;
        }
    }

    private static List<HookSpec> select(ActivationStore store, List<String> names) {
        if (names == null || names.isEmpty()) {
            return store.hooks();
        }
        List<HookSpec> out = new ArrayList<>();
        for (String n : names) {
            out.add(store.hook(n));
        }
        return out;
    }

    /** The schema with {@code datasets}'s own metadata: {"huggingface": {"info": {"features": ...}}}. */
    private static Schema withHfMetadata(Schema schema, JsonObject features) {
        JsonObject info = new JsonObject();
        info.add("features", features);
        JsonObject hf = new JsonObject();
        hf.add("info", info);
        return new Schema(schema.getFields(), Map.of("huggingface", new Gson().toJson(hf)));
    }

    private static void prepare(Path out) {
        try {
            Files.createDirectories(out);
            try (var s = Files.list(out)) {
                if (s.anyMatch(p -> p.getFileName().toString().startsWith("data-")
                        || p.getFileName().toString().equals("state.json"))) {
                    throw MoescopeException.usage(out + ": already holds a dataset; choose an empty directory");
                }
            }
        } catch (IOException e) {
            throw MoescopeException.failure(out + ": cannot create: " + e.getMessage(), e);
        }
    }

    /** Renames the parts to {@code data-i-of-N.arrow} and writes {@code state.json} and {@code dataset_info.json}. */
    private static List<String> finish(Path out, List<Path> parts, JsonObject features, long seed, String description) {
        List<String> names = new ArrayList<>();
        try {
            for (int i = 0; i < parts.size(); i++) {
                String name = String.format("data-%05d-of-%05d.arrow", i, parts.size());
                AtomicFiles.moveAtomically(parts.get(i), out.resolve(name));
                names.add(name);
            }
        } catch (IOException e) {
            throw MoescopeException.failure(out + ": cannot rename data files: " + e.getMessage(), e);
        }
        JsonObject state = new JsonObject();
        JsonArray files = new JsonArray();
        for (String n : names) {
            JsonObject f = new JsonObject();
            f.addProperty("filename", n);
            files.add(f);
        }
        state.add("_data_files", files);
        state.addProperty("_fingerprint", HexFormat.of().toHexDigits(Seeds.derive(seed, "hf fingerprint")));
        state.add("_format_columns", JsonNull.INSTANCE);
        state.add("_format_kwargs", new JsonObject());
        state.add("_format_type", JsonNull.INSTANCE);
        state.addProperty("_output_all_columns", false);
        state.add("_split", JsonNull.INSTANCE);
        AtomicFiles.writeString(out.resolve("state.json"), HF_JSON.toJson(state) + "\n");

        JsonObject info = new JsonObject();
        info.addProperty("citation", "");
        info.addProperty("description", description);
        info.add("features", features);
        info.addProperty("homepage", "");
        info.addProperty("license", "");
        AtomicFiles.writeString(out.resolve("dataset_info.json"), HF_JSON.toJson(info) + "\n");
        return names;
    }

    /** Stream files written one after another, each started with the schema and ended with the EOS marker. */
    private static final class FileSink {
        private final Path out;
        private final VectorSchemaRoot root;
        private final List<Path> written;
        private FileChannel channel;
        private ArrowStreamWriter writer;

        FileSink(Path out, VectorSchemaRoot root, List<Path> written) {
            this.out = out;
            this.root = root;
            this.written = written;
        }

        long bytes() throws IOException {
            return channel == null ? 0 : channel.position();
        }

        void write() throws IOException {
            if (writer == null) {
                Path p = out.resolve(".part-" + written.size() + ".arrow.tmp");
                channel = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING);
                writer = new ArrowStreamWriter(root, null, channel);
                writer.start();
                written.add(p);
            }
            writer.writeBatch();
        }

        void next() throws IOException {
            close();
        }

        void close() throws IOException {
            if (writer != null) {
                writer.end();
                channel.force(true);
                writer.close();
                writer = null;
                channel = null;
            }
        }
    }
}
