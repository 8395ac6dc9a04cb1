package dev.moescope.sae.train;

import ai.djl.engine.Engine;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.sae.data.GroundTruthStores;
import dev.moescope.sae.data.StoreSource;
import dev.moescope.sae.data.SyntheticSource;
import dev.moescope.sae.dictionary.SparseCodes;
import dev.moescope.sae.encode.StoreEncoding;
import dev.moescope.sae.encode.ThresholdEncoder;
import dev.moescope.sae.eval.Recovery;
import dev.moescope.sae.eval.SaeEvaluation;
import dev.moescope.sae.io.SaeLensExport;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.SparseRows;
import dev.moescope.store.stream.DocumentSplit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole store workflow on ground-truth data written into a real store: training through {@link StoreSource}
 * recovers ≥ 90% of the true directions at cosine ≥ 0.9; evaluation runs on the held-out documents only and its
 * top-activating contexts are real rows of those documents with their stored metadata; encoding writes a sparse
 * hook that reads back equal to encoding the rows directly.
 */
@Tag("slow")
class StoreWorkflowTest {

    @Test
    void trainEvaluateEncodeThroughTheStore(@TempDir Path dir) throws Exception {
        Engine engine = DjlRuntime.pytorch(2);
        SyntheticSource truth = new SyntheticSource(new SyntheticSource.Spec(64, 96, 3, 0.01, 64, 1));
        Path store = dir.resolve("store");
        GroundTruthStores.write(store, truth, 1024, 64, 4096, -1);
        StoreSource.Spec spec = new StoreSource.Spec(store, GroundTruthStores.HOOK, 1, 0.1, 8);
        SaeConfig cfg = SaeConfig.defaults(192, 3, 1024, 1400).withLr(3e-4).withSchedule(50, 400);
        Path run = dir.resolve("run");
        StringWriter text = new StringWriter();
        try (StoreSource src = new StoreSource(spec)) {
            SaeTrainRun.execute(engine, src, cfg, run, false, 1, 2, GroundTruthStores.HOOK, Provenance.start("test"),
                    new PrintWriter(text));
        }
        SaeLensExport.RawSae sae = SaeLensExport.read(run);
        Recovery.Result rec = Recovery.of(truth.groundTruth(), sae.wDec(), 96, sae.latents(), sae.width(), 0.9);
        System.out.println("recovered through the store: " + rec.fractionRecovered() + ", mean best cos " + rec.meanMaxCosine());
        assertTrue(rec.fractionRecovered() >= 0.9, "recovered " + rec.fractionRecovered());

        // eval re-opens the source from what the run recorded: validation documents only, contexts from the store
        Path evalDir = Files.createDirectories(run.resolve("eval"));
        SaeEvaluation.Summary e;
        try (StoreSource src = new StoreSource(StoreSource.Spec.from(sae.recordedSource()))) {
            e = SaeEvaluation.run(engine, run, src, evalDir, 1024, 0.1, 5, 2, Provenance.start("test eval"),
                    new PrintWriter(text));
            assertEquals(src.validationRows(), e.tokens());
        }
        System.out.println(text);
        assertTrue(e.withBatchTopK().fvePooled() > 0.8, "FVE " + e.withBatchTopK().fvePooled());
        assertTrue(e.latentsWithContexts() > 96, "latents with contexts " + e.latentsWithContexts());
        String csv = Files.readString(evalDir.resolve("contexts.csv"));
        assertTrue(csv.startsWith("latent,rank,activation,store_row,doc_id,domain,position,token_id,token,context\n"));
        JsonObject json = Json.read(evalDir.resolve("contexts.json"), JsonObject.class);
        JsonArray latents = json.getAsJsonArray("latents");
        DocumentSplit split = new DocumentSplit(1, 0.1);
        try (ActivationStore s = ActivationStore.open(store); ThresholdEncoder enc = new ThresholdEncoder(engine, sae)) {
            for (int i = 0; i < latents.size(); i += 17) {
                JsonObject lc = latents.get(i).getAsJsonObject();
                int latent = lc.get("latent").getAsInt();
                float prev = Float.MAX_VALUE;
                for (var c : lc.getAsJsonArray("top")) {
                    JsonObject o = c.getAsJsonObject();
                    long row = o.get("storeRow").getAsLong();
                    assertTrue(split.isValidation(row / 64), "context row " + row + " is a validation row");
                    assertEquals("doc-" + row / 64, o.get("docId").getAsString());
                    assertEquals(GroundTruthStores.DOMAINS[(int) (row / 64) % 3], o.get("domain").getAsString());
                    assertEquals(row % 64, o.get("position").getAsInt());
                    assertEquals("tok" + row % 50, o.get("token").getAsString());
                    float a = o.get("activation").getAsFloat();
                    assertTrue(a <= prev, "largest first");
                    prev = a;
                    SparseCodes codes = enc.encode(s.readHook(GroundTruthStores.HOOK, row, 1), 1);
                    float direct = 0;
                    for (int p = 0; p < codes.nnz(); p++) {
                        if (codes.cols[p] == latent) {
                            direct = codes.vals[p];
                        }
                    }
                    assertEquals(direct, a, 1e-4f * Math.max(1, Math.abs(a)), "latent " + latent + " row " + row);
                }
            }
        }

        // encode: a sparse hook, read back through the store, equal to encoding the rows directly
        StoreEncoding.Summary enc = StoreEncoding.run(engine, run, store, GroundTruthStores.HOOK, "sae_latents", false,
                Files.createDirectories(run.resolve("encode")), Provenance.start("test encode"), new PrintWriter(text));
        assertEquals(1024L * 64, enc.rows());
        assertTrue(enc.meanL0() > 2 && enc.meanL0() < 4.5, "mean L0 " + enc.meanL0());
        try (ActivationStore s = ActivationStore.open(store); ThresholdEncoder direct = new ThresholdEncoder(engine, sae)) {
            assertTrue(s.hook("sae_latents").sparse());
            for (long first : List.of(0L, 4000L, 1024L * 64 - 300)) {
                SparseRows got = s.readSparse("sae_latents", first, 300);
                SparseCodes want = direct.encode(s.readHook(GroundTruthStores.HOOK, first, 300), 300);
                assertArrayEquals(want.rowPtr, got.offsets(), "offsets at " + first);
                assertArrayEquals(java.util.Arrays.copyOf(want.cols, want.nnz()), got.indices());
                assertArrayEquals(java.util.Arrays.copyOf(want.vals, want.nnz()), got.values(), 1e-5f);
            }
        }
    }
}
