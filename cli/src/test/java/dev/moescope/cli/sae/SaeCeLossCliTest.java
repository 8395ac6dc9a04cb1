package dev.moescope.cli.sae;

import com.google.gson.JsonObject;

import dev.moescope.cli.CliRun;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.fixtures.Fixtures;
import dev.moescope.sae.io.SaeLensExport;
import dev.moescope.store.ActivationStore;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CE loss recovered in {@code moescope sae eval --store} on a store recorded by {@code probe run} from the fixture
 * MoE: an SAE that reconstructs exactly recovers 1 (CE_sae = CE_clean), a zero SAE 0, a trained SAE in between;
 * a moved model is found with --model, a different model is refused by hash, a synthetic store skips CE with a
 * note (or exits 3 under --ce).
 */
@Tag("slow")
class SaeCeLossCliTest {

    private static final String HOOK = "blocks.2.resid_post";

    @TempDir
    static Path dir;
    static Path model;
    static Path store;
    static int width;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @BeforeAll
    static void recordStore() throws IOException {
        Path md = Files.createDirectories(dir.resolve("moe"));
        for (String f : List.of(Fixtures.MODEL_FILE, Fixtures.SIDECAR_FILE)) {
            Files.copy(Fixtures.path(Fixtures.MOE_LOGITS_ONLY_MODEL).resolve(f), md.resolve(f));
        }
        model = md.resolve(Fixtures.MODEL_FILE);
        Path corpus = Files.createDirectories(dir.resolve("corpus"));
        for (String d : Fixtures.DOMAINS) { // the first four documents of each domain
            List<String> lines = new ArrayList<>();
            try (BufferedReader r = Files.newBufferedReader(Fixtures.path(Fixtures.CORPUS + "/" + d + ".jsonl"))) {
                for (int i = 0; i < 4; i++) {
                    lines.add(r.readLine());
                }
            }
            Files.write(corpus.resolve(d + ".jsonl"), lines);
        }
        store = dir.resolve("store");
        // overlap > 0: windows repeat context, so row i = position i only if eval re-windows exactly as recorded
        CliRun p = run("probe", "run", "--model", model.toString(), "--tokenizer",
                Fixtures.path(Fixtures.TOKENIZER).toString(), "--corpus", corpus.toString(), "--bos", "0",
                "--seq-len", "64", "--overlap", "16", "--batch", "4", "--hooks", HOOK, "--out", store.toString(),
                "--threads", "2", "--no-progress");
        assertEquals(0, p.code(), p.err());
        try (ActivationStore s = ActivationStore.open(store)) {
            width = s.hook(HOOK).width();
        }
    }

    /** An SAE with latents ±e_j: x̂ = relu(x) − relu(−x) = x exactly; {@code zero}: all weights 0, x̂ = 0. */
    private static Path handMade(String name, boolean zero) {
        int f = 2 * width;
        float[] enc = new float[f * width];
        for (int j = 0; j < width && !zero; j++) {
            enc[j * width + j] = 1f;
            enc[(width + j) * width + j] = -1f;
        }
        Path d = dir.resolve(name);
        Map<String, String> source = new LinkedHashMap<>();
        source.put("source", "store");
        source.put("store.path", store.toString());
        source.put("store.hook", HOOK);
        source.put("store.seed", "1");
        source.put("store.validation_fraction", "0.3");
        source.put("store.buffer_batches", "1");
        SaeLensExport.write(d, width, f, enc, new float[f], enc.clone(), new float[width], 1.0, 0.0, width, HOOK,
                source, Provenance.start("test").build());
        return d;
    }

    private static JsonObject ce(Path runDir) {
        return Json.read(runDir.resolve("eval/summary.json"), JsonObject.class).getAsJsonObject("ceLoss");
    }

    @Test
    void exactReconstructionRecoversAllAndZeroNothing() {
        Path exact = handMade("exact", false);
        CliRun e = run("sae", "eval", exact.toString(), "--store", store.toString(), "--contexts", "0",
                "--threads", "2", "--no-progress");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("recovered"), e.out());
        JsonObject c = ce(exact);
        assertTrue(c.get("tokens").getAsLong() > 100, c.toString());
        assertTrue(c.get("hookMaxAbsDiff").getAsDouble() < 1e-3, c.toString());
        double clean = c.get("ceClean").getAsDouble();
        assertTrue(clean > 0 && clean < c.get("ceZeroAblation").getAsDouble(), c.toString());
        assertEquals(clean, c.get("ceSae").getAsDouble(), 1e-4, c.toString());
        assertEquals(1.0, c.get("recovered").getAsDouble(), 1e-3, c.toString());

        Path zero = handMade("zero", true);
        CliRun z = run("sae", "eval", zero.toString(), "--store", store.toString(), "--contexts", "0",
                "--threads", "2", "--no-progress");
        assertEquals(0, z.code(), z.err());
        JsonObject cz = ce(zero);
        assertEquals(clean, cz.get("ceClean").getAsDouble(), 1e-9);
        assertEquals(0.0, cz.get("recovered").getAsDouble(), 1e-9, cz.toString());
        assertEquals(cz.get("ceZeroAblation").getAsDouble(), cz.get("ceSae").getAsDouble(), 1e-9);
    }

    @Test
    void trainedSaeRecoversPartOfTheLoss() {
        Path runDir = dir.resolve("trained");
        CliRun t = run("sae", "train", "--store", store.toString(), "--hook", HOOK, "--latents", "64", "--k", "8",
                "--batch", "128", "--steps", "150", "--warmup", "10", "--threshold-start", "20", "--lr", "3e-3",
                "--validation-fraction", "0.3", "--threads", "2", "--no-progress", "--out", runDir.toString());
        assertEquals(0, t.code(), t.err());
        CliRun e = run("sae", "eval", runDir.toString(), "--store", store.toString(), "--contexts", "0",
                "--threads", "2", "--no-progress");
        assertEquals(0, e.code(), e.err());
        JsonObject c = ce(runDir);
        double r = c.get("recovered").getAsDouble();
        assertTrue(r > 0.2 && r < 1.0, "recovered " + r + " " + c);
        assertTrue(c.get("ceSae").getAsDouble() > c.get("ceClean").getAsDouble(), c.toString());
        System.out.println("fixture CE (trained SAE, 64 latents, k 8, 150 steps): " + c);
    }

    @Test
    void movedModelDifferentModelAndSyntheticStore() throws IOException {
        Path exact = handMade("exact2", false);
        // the model moved: --model finds it (same bytes, same hash)
        Path moved = Files.createDirectories(dir.resolve("moved")).resolve("m.onnx");
        Files.copy(model, moved);
        CliRun ok = run("sae", "eval", exact.toString(), "--store", store.toString(), "--model", moved.toString(),
                "--contexts", "0", "--threads", "2", "--no-progress");
        assertEquals(0, ok.code(), ok.err());

        // another model: refused by hash, one line, exit 3
        Path other = Files.createDirectories(dir.resolve("other")).resolve("m.onnx");
        Files.copy(Fixtures.path(Fixtures.MOE_MODEL).resolve(Fixtures.MODEL_FILE), other);
        CliRun bad = run("sae", "eval", exact.toString(), "--store", store.toString(), "--model", other.toString(),
                "--contexts", "0", "--threads", "2", "--no-progress");
        assertEquals(3, bad.code(), bad.err());
        assertEquals(1, bad.err().strip().split("\n").length, bad.err());
        assertTrue(bad.err().contains("SHA-256") && bad.err().contains("not the model the store was recorded with"),
                bad.err());

        // a store not recorded by probe run: other metrics still written, CE skipped with a note; --ce makes it exit 3
        Path synth = dir.resolve("synth");
        assertEquals(0, run("store", "synth", "--out", synth.toString(), "--docs", "40", "--hook", HOOK + ":" + width,
                "--no-progress").code());
        Path sd = dir.resolve("synth-eval");
        CliRun note = run("sae", "eval", exact.toString(), "--store", synth.toString(), "--out", sd.toString(),
                "--contexts", "0", "--threads", "2", "--no-progress");
        assertEquals(0, note.code(), note.err());
        assertTrue(note.err().contains("CE loss recovered skipped: it needs a store recorded by `moescope probe run`"),
                note.err());
        JsonObject s = Json.read(sd.resolve("summary.json"), JsonObject.class);
        assertTrue(s.has("withThreshold") && (!s.has("ceLoss") || s.get("ceLoss").isJsonNull()), s.toString());
        CliRun strict = run("sae", "eval", exact.toString(), "--store", synth.toString(), "--out", sd.toString(),
                "--ce", "--contexts", "0", "--threads", "2", "--no-progress");
        assertEquals(3, strict.code(), strict.err());
        assertEquals(1, strict.err().strip().split("\n").length, strict.err());
        assertTrue(strict.err().contains("CE loss recovered needs a store recorded by `moescope probe run`"),
                strict.err());
    }
}
