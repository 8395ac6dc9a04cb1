package dev.moescope.store;

import dev.moescope.store.export.HfExporter;
import dev.moescope.store.manifest.ShardEntry;
import dev.moescope.store.synthetic.SyntheticCorpus;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * An independent Arrow implementation (the apache-arrow npm package, run by Node) reads the store's files and
 * reports values, which must equal what Java wrote: floats bit for bit, ids, strings and the dictionary-encoded
 * domain. CI installs the package with {@code npm ci --prefix activation-store/src/test/node}.
 */
class StoreNodeInteropTest {

    private static final Path NODE_DIR = Path.of("src/test/node");
    private static final int ROWS = 40;

    @TempDir
    Path tmp;

    @Test
    void nodeArrowReadsTheSameValues() throws Exception {
        Assumptions.assumeTrue(nodeAvailable(), "node is not installed");
        if (!Files.isDirectory(NODE_DIR.resolve("node_modules/apache-arrow"))) {
            fail("apache-arrow is not installed: run npm ci --prefix activation-store/src/test/node");
        }
        Path dir = tmp.resolve("store");
        StoreSpec spec = TestStores.spec().build();
        TestStores.write(dir, spec, SyntheticCorpus.small(9), 12);
        try (ActivationStore store = ActivationStore.open(dir)) {
            ShardEntry shard = store.manifest().shards().get(1);
            Path shardDir = dir.resolve(shard.directory());
            int n = (int) Math.min(ROWS, shard.rows());

            JsonObject hook = node(shardDir.resolve("blocks.0.resid_post.arrow"), n);
            assertEquals(shard.rows(), hook.get("numRows").getAsLong());
            assertTrue(hook.getAsJsonObject("metadata").get("moescope.store").getAsString().contains("\"width\":16"));
            float[] want = store.readHook("blocks.0.resid_post", shard.firstRow(), n);
            JsonArray rows = hook.getAsJsonObject("columns").getAsJsonArray("blocks.0.resid_post");
            for (int r = 0; r < n; r++) {
                JsonArray row = rows.get(r).getAsJsonArray();
                assertEquals(16, row.size());
                for (int j = 0; j < 16; j++) {
                    assertEquals(want[r * 16 + j], row.get(j).getAsFloat(), 0.0f, "row " + r + " col " + j);
                }
            }

            JsonObject tokens = node(shardDir.resolve("tokens.arrow"), n);
            TokenColumns t = store.readTokens(shard.firstRow(), n);
            JsonObject cols = tokens.getAsJsonObject("columns");
            for (int r = 0; r < n; r++) {
                assertEquals(t.docIndex()[r], cols.getAsJsonArray("doc_index").get(r).getAsLong());
                assertEquals(t.docId()[r], cols.getAsJsonArray("doc_id").get(r).getAsString());
                assertEquals(t.domain()[r], cols.getAsJsonArray("domain").get(r).getAsString());
                assertEquals(t.position()[r], cols.getAsJsonArray("position").get(r).getAsInt());
                assertEquals(t.tokenId()[r], cols.getAsJsonArray("token_id").get(r).getAsInt());
                assertEquals(t.text()[r], cols.getAsJsonArray("token").get(r).getAsString());
            }

            JsonObject routing = node(shardDir.resolve("routing.blocks.1.arrow"), n);
            RoutingColumns rc = store.readRouting(1, shard.firstRow(), n);
            JsonObject rcols = routing.getAsJsonObject("columns");
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < 2; j++) {
                    assertEquals(rc.expertIds()[r * 2 + j], rcols.getAsJsonArray("expert_ids").get(r).getAsJsonArray().get(j).getAsInt());
                    assertEquals(rc.gateWeights()[r * 2 + j],
                            rcols.getAsJsonArray("gate_weights").get(r).getAsJsonArray().get(j).getAsFloat(), 0.0f);
                }
            }
        }
    }

    @Test
    void nodeArrowReadsTheHuggingFaceSequenceExport() throws Exception {
        Assumptions.assumeTrue(nodeAvailable(), "node is not installed");
        if (!Files.isDirectory(NODE_DIR.resolve("node_modules/apache-arrow"))) {
            fail("apache-arrow is not installed: run npm ci --prefix activation-store/src/test/node");
        }
        Path dir = tmp.resolve("store");
        TestStores.write(dir, TestStores.spec().build(), SyntheticCorpus.small(9), 12);
        Path out = tmp.resolve("hf");
        try (ActivationStore store = ActivationStore.open(dir)) {
            HfExporter.Result r = HfExporter.exportSequences(store, List.of("blocks.1.moe_out"), 8, out, 0);
            JsonObject seq = node(out.resolve(r.files().get(0)), 3);
            assertEquals(r.rows(), seq.get("numRows").getAsLong());
            JsonObject field = seq.getAsJsonArray("fields").get(0).getAsJsonObject();
            assertEquals("blocks.1.moe_out", field.get("name").getAsString());
            assertEquals("datasets.features.features.Array2DExtensionType",
                    field.getAsJsonObject("metadata").get("ARROW:extension:name").getAsString());
            assertTrue(seq.getAsJsonObject("metadata").get("huggingface").getAsString().contains("Array2D"));
            JsonObject cols = seq.getAsJsonObject("columns");
            for (int s = 0; s < 3; s++) {
                long doc = cols.getAsJsonArray("doc_index").get(s).getAsLong();
                int start = cols.getAsJsonArray("start_position").get(s).getAsInt();
                long row = firstRowOf(store, doc) + start;
                float[] want = store.readHook("blocks.1.moe_out", row, 8);
                JsonArray window = cols.getAsJsonArray("blocks.1.moe_out").get(s).getAsJsonArray();
                assertEquals(8, window.size());
                for (int t = 0; t < 8; t++) {
                    JsonArray v = window.get(t).getAsJsonArray();
                    for (int j = 0; j < 8; j++) {
                        assertEquals(want[t * 8 + j], v.get(j).getAsFloat(), 0.0f);
                    }
                }
                assertEquals(store.readTokens(row, 1).tokenId()[0],
                        cols.getAsJsonArray("token_ids").get(s).getAsJsonArray().get(0).getAsInt());
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

    private static boolean nodeAvailable() {
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    private static JsonObject node(Path file, int rows) throws Exception {
        Process p = new ProcessBuilder(List.of("node", NODE_DIR.resolve("read-shard.mjs").toString(),
                file.toAbsolutePath().toString(), Integer.toString(rows))).start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), new String(err, StandardCharsets.UTF_8));
        return JsonParser.parseString(new String(out, StandardCharsets.UTF_8)).getAsJsonObject();
    }
}
