package dev.moescope.cli.sae;

import com.google.gson.JsonObject;

import dev.moescope.cli.CliRun;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.Identity;
import dev.moescope.store.SparseRows;
import dev.moescope.store.StoreSpec;
import dev.moescope.store.StoreWriter;
import dev.moescope.store.TokenRows;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code moescope sae train|eval|encode} on activation stores, end to end through the CLI on a store written by
 * {@code moescope store synth}, and the store-specific bad inputs: one line, exit 2 or 3, checkpoints intact.
 */
class SaeStoreCliTest {

    private static final String HOOK = "blocks.0.resid_post";

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private static void assertOneLineError(CliRun r, int code, String contains) {
        assertEquals(code, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, r.err());
        assertTrue(lines[0].startsWith("moescope: ") && lines[0].contains(contains), r.err());
    }

    private static String[] train(Path store, String hook, Path out, String... more) {
        return train(store, hook, out, 256, more);
    }

    private static String[] train(Path store, String hook, Path out, int batch, String... more) {
        String[] base = {"sae", "train", "--store", store.toString(), "--hook", hook, "--latents", "32", "--k", "3",
                "--batch", Integer.toString(batch), "--steps", "30", "--warmup", "5", "--threshold-start", "10", "--lr", "1e-3",
                "--threads", "2", "--no-progress", "--out", out.toString()};
        String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    @Test
    void trainsEvaluatesAndEncodesAStore(@TempDir Path dir) throws IOException {
        Path store = dir.resolve("store");
        CliRun synth = run("store", "synth", "--out", store.toString(), "--docs", "200", "--hook", HOOK + ":16",
                "--hook", "blocks.1.resid_post:12", "--no-progress");
        assertEquals(0, synth.code(), synth.err());
        Path runDir = dir.resolve("run");
        CliRun t = run(train(store, HOOK, runDir));
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("trained 30 steps"), t.out());
        JsonObject cfg = Json.read(runDir.resolve("cfg.json"), JsonObject.class);
        assertEquals(HOOK, cfg.get("hook_name").getAsString());
        assertEquals("store", cfg.getAsJsonObject("moescope").getAsJsonObject("source").get("source").getAsString());

        CliRun e = run("sae", "eval", runDir.toString(), "--store", store.toString(), "--batch", "256",
                "--contexts", "3", "--threads", "2");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("FVE pooled") && e.out().contains("contexts.csv"), e.out());
        String csv = Files.readString(runDir.resolve("eval/contexts.csv"));
        String[] lines = csv.split("\n");
        assertTrue(lines.length > 10, csv);
        // token strings from the store (synth records token text), the active token marked in its context
        assertTrue(lines[1].contains("[[") && lines[1].matches("^\\d+,1,[-0-9.E]+,\\d+,\"doc-\\d+\",\"(code|math|prose)\",.*"),
                lines[1]);
        assertTrue(Files.exists(runDir.resolve("eval/contexts.json")));
        JsonObject summary = Json.read(runDir.resolve("eval/summary.json"), JsonObject.class);
        assertTrue(summary.get("latentsWithContexts").getAsInt() > 0);

        CliRun.WithBars encoding = CliRun.withBars("sae", "encode", runDir.toString(), "--store", store.toString(),
                "--out-hook", "sae_latents", "--threads", "2");
        CliRun enc = encoding.run();
        assertEquals(0, enc.code(), enc.err());
        assertTrue(enc.out().contains("encoded"), enc.out());
        assertTrue(encoding.bars().contains("sae encode"), "no progress bar: " + encoding.bars());
        try (ActivationStore s = ActivationStore.open(store)) {
            assertTrue(s.hook("sae_latents").sparse());
            assertEquals(32, s.hook("sae_latents").width());
            SparseRows r = s.readSparse("sae_latents", 0, (int) Math.min(500, s.rows()));
            assertTrue(r.indices().length > 0, "some latents are active");
        }
        assertOneLineError(run("sae", "encode", runDir.toString(), "--store", store.toString(), "--out-hook",
                "sae_latents", "--threads", "2"), 3, "already has a hook named sae_latents");
        CliRun verify = run("store", "verify", store.toString());
        assertEquals(0, verify.code(), verify.out() + verify.err());

        // the store's other hook has width 12: resuming on it is refused, the checkpoint stays as it was
        byte[] before = Files.readAllBytes(runDir.resolve("checkpoint.safetensors"));
        assertOneLineError(run(train(store, "blocks.1.resid_post", runDir, "--resume")), 3, "width mismatch");
        assertArrayEquals(before, Files.readAllBytes(runDir.resolve("checkpoint.safetensors")));
    }

    @Test
    void storeBadInputExitsThree(@TempDir Path dir) {
        Path store = dir.resolve("store");
        assertEquals(0, run("store", "synth", "--out", store.toString(), "--docs", "20", "--hook", HOOK + ":16",
                "--no-progress").code());
        assertOneLineError(run(train(store, "blocks.7.mlp_out", dir.resolve("a"))), 3,
                "no hook 'blocks.7.mlp_out' in this store (hooks: " + HOOK + ")");
        assertOneLineError(run(train(store, HOOK, dir.resolve("b"), 100000)), 3,
                "fewer than one batch of 100000");
        assertOneLineError(run(train(dir.resolve("nowhere"), HOOK, dir.resolve("c"))), 3, "nowhere");

        // a NaN in a stored row: named by store row, or skipped on request
        Path nan = dir.resolve("nan");
        StoreSpec spec = StoreSpec.builder(new Identity("m", "0"), new Identity("t", "0")).hook(HOOK, 8)
                .batchRows(128).build();
        Random r = new Random(3);
        try (StoreWriter w = StoreWriter.create(nan, spec, Provenance.start("test").build())) {
            for (int d = 0; d < 40; d++) {
                float[] x = new float[32 * 8];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.nextGaussian();
                }
                if (d % 2 == 0) {
                    x[5 * 8 + 3] = Float.NaN; // row d*32+5 of every even document
                }
                w.beginDocument("doc-" + d, "prose");
                w.append(TokenRows.of(new int[32]).hook(HOOK, x));
                w.endDocument();
            }
        }
        CliRun bad = run(train(nan, HOOK, dir.resolve("d")));
        assertOneLineError(bad, 3, "column 3 is NaN");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("row (\\d+) column 3").matcher(bad.err());
        assertTrue(m.find() && bad.err().contains(nan.toString()), bad.err());
        long row = Long.parseLong(m.group(1));
        assertTrue(row % 32 == 5 && (row / 32) % 2 == 0, "the reported store row holds the NaN: " + row);
        CliRun skipped = run(train(nan, HOOK, dir.resolve("e"), "--skip-nonfinite"));
        assertEquals(0, skipped.code(), skipped.err());
        assertOneLineError(run("sae", "encode", dir.resolve("e").toString(), "--store", nan.toString(),
                "--out-hook", "lat", "--threads", "2"), 3, "column 3 is NaN");
        CliRun encSkip = run("sae", "encode", dir.resolve("e").toString(), "--store", nan.toString(),
                "--out-hook", "lat", "--skip-nonfinite", "--threads", "2");
        assertEquals(0, encSkip.code(), encSkip.err());
        assertTrue(encSkip.out().contains("20 non-finite rows left empty"), encSkip.out());
    }
}
