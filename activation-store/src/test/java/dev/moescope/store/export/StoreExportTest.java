package dev.moescope.store.export;

import dev.moescope.core.provenance.Provenance;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.Identity;
import dev.moescope.store.RoutingColumns;
import dev.moescope.store.StoreSpec;
import dev.moescope.store.StoreWriter;
import dev.moescope.store.TokenColumns;
import dev.moescope.store.synthetic.SyntheticCorpus;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.apache.arrow.dataset.file.FileFormat;
import org.apache.arrow.dataset.file.FileSystemDatasetFactory;
import org.apache.arrow.dataset.jni.NativeMemoryPool;
import org.apache.arrow.dataset.scanner.ScanOptions;
import org.apache.arrow.dataset.scanner.Scanner;
import org.apache.arrow.dataset.source.Dataset;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The exports hold the store's values, in the formats their readers expect: the Hugging Face {@code datasets}
 * layout (file naming, stream format, state.json and dataset_info.json fields, features matching the Arrow types
 * exactly, Array2D extension metadata), Parquet read back through Arrow's C++ dataset scanner, and .npy files
 * read back by numpy where it is installed.
 */
class StoreExportTest {

    private static final String HOOK = "blocks.0.resid_post";

    @TempDir
    Path tmp;
    Path dir;

    @BeforeEach
    void writeStore() {
        dir = tmp.resolve("store");
        StoreSpec spec = StoreSpec.builder(new Identity("m", "1"), new Identity("t", "2"))
                .hook(HOOK, 8).hook("blocks.1.moe_out", 4).routing(1, 2, 4).tokenText(true)
                .shardRows(400).batchRows(100).build();
        try (StoreWriter w = StoreWriter.create(dir, spec, Provenance.start("test").build())) {
            SyntheticCorpus.small(2).write(w, 0, 30);
        }
    }

    @Test
    void hfTokenRowsFollowTheDatasetsLayout() throws Exception {
        Path out = tmp.resolve("hf");
        try (ActivationStore store = ActivationStore.open(dir)) {
            HfExporter.Result r = HfExporter.exportTokens(store, List.of(), out, 1);
            int n = store.manifest().shards().size();
            assertEquals(n, r.files().size());
            for (int i = 0; i < n; i++) {
                assertEquals(String.format("data-%05d-of-%05d.arrow", i, n), r.files().get(i));
            }
            JsonObject state = json(out.resolve("state.json"));
            assertEquals(List.of("_data_files", "_fingerprint", "_format_columns", "_format_kwargs", "_format_type",
                    "_output_all_columns", "_split"), new ArrayList<>(state.keySet()), "sorted keys, as datasets writes them");
            assertEquals(r.files().get(0), state.getAsJsonArray("_data_files").get(0).getAsJsonObject().get("filename").getAsString());
            assertTrue(state.get("_fingerprint").getAsString().matches("[0-9a-f]{16}"));
            JsonObject info = json(out.resolve("dataset_info.json"));
            assertEquals(List.of("citation", "description", "features", "homepage", "license"), new ArrayList<>(info.keySet()));
            JsonObject features = info.getAsJsonObject("features");

            long row = 0;
            for (String name : r.files()) {
                Path f = out.resolve(name);
                byte[] head = new byte[6];
                try (InputStream in = Files.newInputStream(f)) {
                    in.readNBytes(head, 0, 6);
                }
                assertFalse(new String(head, StandardCharsets.US_ASCII).equals("ARROW1"), "stream format, not file format");
                try (BufferAllocator a = new RootAllocator();
                     ArrowStreamReader reader = new ArrowStreamReader(Files.newInputStream(f), a)) {
                    VectorSchemaRoot root = reader.getVectorSchemaRoot();
                    List<Field> fields = root.getSchema().getFields();
                    assertEquals(new ArrayList<>(features.keySet()), fields.stream().map(Field::getName).toList());
                    JsonObject embedded = JsonParser.parseString(root.getSchema().getCustomMetadata().get("huggingface"))
                            .getAsJsonObject().getAsJsonObject("info").getAsJsonObject("features");
                    assertEquals(features, embedded);
                    for (Field field : fields) {
                        assertTrue(field.isNullable(), field.getName());
                        assertFeatureMatches(features.getAsJsonObject(field.getName()), field);
                    }
                    while (reader.loadNextBatch()) {
                        int rows = root.getRowCount();
                        TokenColumns t = store.readTokens(row, rows);
                        float[] hook = store.readHook(HOOK, row, rows);
                        RoutingColumns rc = store.readRouting(1, row, rows);
                        for (int i = 0; i < rows; i++) {
                            assertEquals(t.docId()[i], ((VarCharVector) root.getVector("doc_id")).getObject(i).toString());
                            assertEquals(t.domain()[i], ((VarCharVector) root.getVector("domain")).getObject(i).toString());
                            assertEquals(t.tokenId()[i], ((IntVector) root.getVector("token_id")).get(i));
                            assertEquals(rc.expertIds()[i * 2 + 1],
                                    ((IntVector) ((FixedSizeListVector) root.getVector("blocks.1.expert_ids")).getDataVector()).get(i * 2 + 1));
                            Float4Vector v = (Float4Vector) ((FixedSizeListVector) root.getVector(HOOK)).getDataVector();
                            for (int j = 0; j < 8; j++) {
                                assertEquals(hook[i * 8 + j], v.get(i * 8 + j));
                            }
                        }
                        row += rows;
                    }
                }
            }
            assertEquals(store.rows(), row);
        }
    }

    /** The datasets feature JSON ↔ Arrow type correspondence (features.py: Value, Sequence with length). */
    private static void assertFeatureMatches(JsonObject feature, Field field) {
        String type = feature.get("_type").getAsString();
        if (type.equals("Value")) {
            assertEquals(feature.get("dtype").getAsString(), dtypeOf(field.getType()), field.getName());
        } else {
            assertEquals("Sequence", type);
            ArrowType.FixedSizeList list = (ArrowType.FixedSizeList) field.getType();
            assertEquals(feature.get("length").getAsInt(), list.getListSize());
            assertEquals(feature.getAsJsonObject("feature").get("dtype").getAsString(),
                    dtypeOf(field.getChildren().get(0).getType()));
        }
    }

    private static String dtypeOf(ArrowType t) {
        if (t instanceof ArrowType.Int i) {
            return "int" + i.getBitWidth();
        }
        if (t instanceof ArrowType.Utf8) {
            return "string";
        }
        if (t instanceof ArrowType.FloatingPoint fp) {
            return switch (fp.getPrecision()) {
                case HALF -> "float16";
                case SINGLE -> "float32";
                case DOUBLE -> "float64";
            };
        }
        return t.toString();
    }

    @Test
    void hfSequencesHaveArray2DColumnsAsSaeLensReadsThem() throws Exception {
        Path out = tmp.resolve("seq");
        int context = 16;
        try (ActivationStore store = ActivationStore.open(dir)) {
            HfExporter.Result r = HfExporter.exportSequences(store, List.of(HOOK), context, out, 1);
            assertTrue(r.rows() > 0);
            JsonObject features = json(out.resolve("dataset_info.json")).getAsJsonObject("features");
            JsonObject array2d = features.getAsJsonObject(HOOK);
            assertEquals("Array2D", array2d.get("_type").getAsString());
            assertEquals("[16,8]", array2d.get("shape").toString());
            assertEquals("float32", array2d.get("dtype").getAsString());
            try (BufferAllocator a = new RootAllocator();
                 ArrowStreamReader reader = new ArrowStreamReader(Files.newInputStream(out.resolve(r.files().get(0))), a)) {
                VectorSchemaRoot root = reader.getVectorSchemaRoot();
                Field f = root.getSchema().findField(HOOK);
                assertEquals("datasets.features.features.Array2DExtensionType", f.getMetadata().get("ARROW:extension:name"));
                assertEquals("[[16, 8], \"float32\"]", f.getMetadata().get("ARROW:extension:metadata"));
                assertTrue(f.getType() instanceof ArrowType.List, "storage is a variable list of lists");
                assertTrue(f.getChildren().get(0).getType() instanceof ArrowType.List);
                assertTrue(reader.loadNextBatch());
                // the first window is the first 16 tokens of the first document with at least 16 tokens
                long doc = ((BigIntVector) root.getVector("doc_index")).get(0);
                int start = ((IntVector) root.getVector("start_position")).get(0);
                assertEquals(0, start);
                long firstRow = firstRowOf(store, doc);
                float[] want = store.readHook(HOOK, firstRow, context);
                ListVector outer = (ListVector) root.getVector(HOOK);
                @SuppressWarnings("unchecked")
                List<List<Float>> window = (List<List<Float>>) outer.getObject(0);
                assertEquals(context, window.size());
                for (int t = 0; t < context; t++) {
                    for (int j = 0; j < 8; j++) {
                        assertEquals(want[t * 8 + j], window.get(t).get(j));
                    }
                }
                FixedSizeListVector ids = (FixedSizeListVector) root.getVector("token_ids");
                assertEquals(store.readTokens(firstRow, 1).tokenId()[0], ((IntVector) ids.getDataVector()).get(0));
            }
        }
    }

    private static long firstRowOf(ActivationStore store, long doc) {
        long[] docs = store.readDocumentIndex(0, (int) store.rows());
        for (int i = 0; i < docs.length; i++) {
            if (docs[i] == doc) {
                return i;
            }
        }
        throw new AssertionError("document " + doc + " not found");
    }

    @Test
    void parquetReadsBackThroughArrowDataset() throws Exception {
        Path out = tmp.resolve("pq");
        try (ActivationStore store = ActivationStore.open(dir)) {
            List<String> files = ParquetExporter.export(store, List.of(HOOK), out);
            assertFalse(files.isEmpty());
            long rows = 0;
            double sumParquet = 0;
            try (BufferAllocator a = new RootAllocator();
                 FileSystemDatasetFactory factory = new FileSystemDatasetFactory(a, NativeMemoryPool.getDefault(),
                         FileFormat.PARQUET, out.resolve(files.get(0)).toUri().toString());
                 Dataset ds = factory.finish();
                 Scanner scanner = ds.newScan(new ScanOptions(1 << 15));
                 ArrowReader reader = scanner.scanBatches()) {
                while (reader.loadNextBatch()) {
                    VectorSchemaRoot root = reader.getVectorSchemaRoot();
                    FieldVector hook = root.getVector(HOOK);
                    // Parquet has no fixed-size list: it comes back as a list of 8 floats per row
                    FieldVector data = hook.getChildrenFromFields().get(0);
                    assertEquals(root.getRowCount() * 8, data.getValueCount());
                    for (int i = 0; i < data.getValueCount(); i++) {
                        sumParquet += ((Float4Vector) data).get(i);
                    }
                    rows += root.getRowCount();
                }
            }
            assertEquals(store.rows(), rows);
            float[] all = store.readHook(HOOK, 0, (int) store.rows());
            double sum = 0;
            for (float v : all) {
                sum += v;
            }
            assertEquals(sum, sumParquet, 1e-6 * Math.abs(sum) + 1e-6);
        }
    }

    @Test
    void npyFilesHoldTheValues() throws Exception {
        Path out = tmp.resolve("npy");
        try (ActivationStore store = ActivationStore.open(dir)) {
            NpyExporter.export(store, List.of(), out);
            byte[] bytes = Files.readAllBytes(out.resolve(HOOK + ".npy"));
            int headerLen = ByteBuffer.wrap(bytes, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort();
            String header = new String(bytes, 10, headerLen, StandardCharsets.US_ASCII);
            assertTrue(header.contains("'shape': (" + store.rows() + ", 8)"), header);
            assertEquals(0, (10 + headerLen) % 64, "header aligned to 64 bytes");
            float[] got = new float[(int) store.rows() * 8];
            ByteBuffer.wrap(bytes, 10 + headerLen, got.length * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(got);
            assertArrayEquals(store.readHook(HOOK, 0, (int) store.rows()), got);
            List<String> csv = Files.readAllLines(out.resolve("tokens.csv"));
            assertEquals(store.rows() + 1, csv.size());
            assertEquals("doc_index,doc_id,domain,position,token_id,token", csv.get(0));

            Path python = Path.of("/usr/bin/python3");
            Assumptions.assumeTrue(Files.isExecutable(python) && run(python, "-c", "import numpy") == 0, "numpy not installed");
            double sum = 0;
            for (float v : got) {
                sum += v;
            }
            String script = "import numpy as np,sys; a=np.load(sys.argv[1], mmap_mode='r'); e=np.load(sys.argv[2]);"
                    + " print(a.shape[0], a.shape[1], repr(float(a.astype('float64').sum())), e.dtype, e.shape[1])";
            Process p = new ProcessBuilder(python.toString(), "-c", script, out.resolve(HOOK + ".npy").toString(),
                    out.resolve("routing.blocks.1.expert_ids.npy").toString()).redirectErrorStream(true).start();
            String[] said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim().split(" ");
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(store.rows(), Long.parseLong(said[0]), String.join(" ", said));
            assertEquals(8, Integer.parseInt(said[1]));
            assertEquals(sum, Double.parseDouble(said[2]), 1e-6 * Math.abs(sum) + 1e-6);
            assertEquals("int32", said[3]);
            assertEquals(2, Integer.parseInt(said[4]));
        }
    }

    private static int run(Path exe, String... args) {
        try {
            List<String> cmd = new ArrayList<>();
            cmd.add(exe.toString());
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    private static JsonObject json(Path p) throws Exception {
        JsonElement e = JsonParser.parseString(Files.readString(p));
        return e.getAsJsonObject();
    }
}
