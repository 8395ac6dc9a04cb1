package dev.moescope.store.export;

import dev.moescope.core.provenance.Provenance;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.Identity;
import dev.moescope.store.StoreSpec;
import dev.moescope.store.StoreWriter;
import dev.moescope.store.TokenColumns;
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
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The exports opened by the readers their users have: Hugging Face {@code datasets.load_from_disk} (the token-row
 * layout and the SAELens-style {@code --sequences} layout with its Array2D column), {@code pyarrow.parquet} and
 * numpy, run from {@code src/test/python/read_exports.py}. The script only reports what it read; the values are
 * compared here with the store's own reader.
 *
 * <p>The interpreter is {@code $MOESCOPE_INTEROP_PYTHON}, else {@code ~/.cache/moescope/python-interop/bin/python}
 * (the virtual environment {@code .ci/run} builds from the machine's local wheels). Without it the test is skipped
 * on a developer machine and fails in CI.
 */
class PythonReadersTest {

    private static final String HOOK = "blocks.0.resid_post";
    private static final int WIDTH = 8;

    @TempDir
    Path tmp;

    static Path interpreter() {
        String configured = System.getenv("MOESCOPE_INTEROP_PYTHON");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "moescope", "python-interop", "bin", "python");
    }

    @Test
    void datasetsPyarrowAndNumpyReadTheStoresValues() throws Exception {
        Path python = interpreter();
        if (!Files.isExecutable(python)) {
            if (System.getenv("CI") != null) {
                fail(python + " is missing: .ci/run should have built it (datasets, pyarrow)");
            }
            Assumptions.abort(python + " not found; run .ci/run's interop step to build it");
        }
        Path store = tmp.resolve("store");
        StoreSpec spec = StoreSpec.builder(new Identity("m", "1"), new Identity("t", "2"))
                .hook(HOOK, WIDTH).routing(1, 2, 4).tokenText(true).shardRows(400).batchRows(100).build();
        try (StoreWriter w = StoreWriter.create(store, spec, Provenance.start("test").build())) {
            SyntheticCorpus.small(2).write(w, 0, 30);
        }
        Path tokens = tmp.resolve("hf");
        Path sequences = tmp.resolve("seq");
        Path parquet = tmp.resolve("pq");
        Path npy = tmp.resolve("npy");
        int context = 16;
        try (ActivationStore s = ActivationStore.open(store)) {
            HfExporter.exportTokens(s, List.of(), tokens, 1);
            HfExporter.Result seq = HfExporter.exportSequences(s, List.of(HOOK), context, sequences, 1);
            ParquetExporter.export(s, List.of(HOOK), parquet);
            NpyExporter.export(s, List.of(HOOK), npy);

            Path script = Path.of("src", "test", "python", "read_exports.py").toAbsolutePath();
            Process p = new ProcessBuilder(python.toString(), script.toString(), tokens.toString(), sequences.toString(),
                    parquet.toString(), npy.toString(), HOOK).redirectErrorStream(false).start();
            byte[] err = new byte[0];
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            err = p.getErrorStream().readAllBytes();
            assertTrue(p.waitFor(5, TimeUnit.MINUTES), "python timed out");
            assertEquals(0, p.exitValue(), new String(err, StandardCharsets.UTF_8));
            JsonObject said = JsonParser.parseString(out.strip()).getAsJsonObject();

            long rows = s.rows();
            float[] firstHook = s.readHook(HOOK, 0, 5);
            TokenColumns t = s.readTokens(0, (int) rows);

            JsonObject hf = said.getAsJsonObject("hf_tokens");
            assertEquals(rows, hf.get("rows").getAsLong());
            assertTrue(hf.getAsJsonArray("columns").toString().contains("\"blocks.1.expert_ids\""));
            JsonObject first = hf.getAsJsonObject("first");
            assertEquals(t.docId()[0], first.get("doc_id").getAsString());
            assertEquals(t.domain()[0], first.get("domain").getAsString());
            assertEquals(t.tokenId()[0], first.get("token_id").getAsInt());
            assertEquals(t.position()[0], first.get("position").getAsInt());
            assertFloats(Arrays.copyOf(firstHook, WIDTH), hf.getAsJsonArray("first_hook"));
            assertEquals("[5," + WIDTH + "]", hf.getAsJsonArray("hook_block_shape").toString());
            double sum = 0;
            for (float v : firstHook) {
                sum += v;
            }
            assertEquals(sum, hf.get("hook_block_sum").getAsDouble(), 1e-9 * Math.max(1, Math.abs(sum)));
            assertEquals(new TreeSet<>(Arrays.asList(t.domain())).toString(),
                    hf.getAsJsonArray("domains").toString().replace("\"", "").replace(",", ", "));

            JsonObject sq = said.getAsJsonObject("hf_sequences");
            assertEquals(seq.rows(), sq.get("rows").getAsLong());
            assertEquals("Array2D", sq.get("feature_type").getAsString());
            assertEquals("[" + context + "," + WIDTH + "]", sq.getAsJsonArray("feature_shape").toString());
            assertEquals("float32", sq.get("feature_dtype").getAsString());
            assertEquals("[" + context + "," + WIDTH + "]", sq.getAsJsonArray("window_shape").toString());

            JsonObject pq = said.getAsJsonObject("parquet");
            assertEquals(rows, pq.get("rows").getAsLong());
            assertFloats(Arrays.copyOf(firstHook, WIDTH), pq.getAsJsonArray("first_hook"));

            JsonObject np = said.getAsJsonObject("npy");
            assertEquals("[" + rows + "," + WIDTH + "]", np.getAsJsonArray("shape").toString());
            assertEquals("float32", np.get("dtype").getAsString());
            assertFloats(Arrays.copyOf(firstHook, WIDTH), np.getAsJsonArray("first_hook"));
        }
    }

    private static void assertFloats(float[] want, JsonArray got) {
        assertEquals(want.length, got.size(), got.toString());
        for (int i = 0; i < want.length; i++) {
            // float32 → Python float → JSON → float is exact for float32 values
            assertEquals(want[i], got.get(i).getAsFloat(), "element " + i);
        }
    }
}
