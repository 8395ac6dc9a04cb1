package dev.moescope.cli.crosscoder;

import com.google.gson.JsonObject;
import dev.moescope.cli.CliRun;
import dev.moescope.core.io.Safetensors;
import dev.moescope.core.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code moescope crosscoder train --resume}: a run trained to step 20 and resumed to step 40 writes bit-identical
 * weights to a straight 40-step run; summary.json reports held-out FVE per source and pooled; --resume without a
 * checkpoint is a one-line usage error.
 */
class CrosscoderTrainResumeCliTest {

    private static final String HOOK = "blocks.2.resid_post";

    private static String[] synthetic(Path out, int steps, String... extra) {
        List<String> a = new ArrayList<>(List.of("crosscoder", "train", "--synthetic", "--latents", "48", "--k", "4",
                "--shared", "4", "--batch", "64", "--steps", "" + steps, "--warmup", "4", "--threshold-start", "10",
                "--dead-tokens", "256", "--no-progress", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(new String[0]);
    }

    @Test
    void resumedRunWritesTheSameWeightsAsAStraightRun(@TempDir Path tmp) {
        Path straight = tmp.resolve("straight");
        Path split = tmp.resolve("split");
        CliRun a = CliRun.of(synthetic(straight, 40));
        assertEquals(0, a.code(), a.err());
        CliRun b = CliRun.of(synthetic(split, 20));
        assertEquals(0, b.code(), b.err());
        // --latents/--k/--shared/--batch (and the schedule) come from the run: the resume names none of them
        CliRun c = CliRun.of("crosscoder", "train", "--synthetic", "--steps", "40", "--resume", "--no-progress",
                "--out", split.toString());
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().contains("trained steps 21..40"), c.out());
        Safetensors.Contents wa = Safetensors.read(straight.resolve("crosscoder.safetensors"));
        Safetensors.Contents wc = Safetensors.read(split.resolve("crosscoder.safetensors"));
        for (String t : new String[]{"W_enc.0", "W_enc.1", "W_dec.0", "W_dec.1", "b_dec.0", "b_dec.1", "b_enc",
                "threshold"}) {
            assertArrayEquals(wa.floats(straight, t), wc.floats(split, t), t);
        }
        JsonObject s = Json.read(split.resolve("summary.json"), JsonObject.class);
        assertEquals(20, s.get("resumed_from_step").getAsLong());
        JsonObject h = s.getAsJsonObject("heldout");
        assertEquals(16 * 64, h.get("tokens").getAsLong()); // a held-out draw of 16 batches
        double pooled = h.getAsJsonObject("fve_threshold").get("pooled").getAsDouble();
        assertTrue(pooled > 0 && pooled < 1, "pooled FVE " + pooled);
        assertEquals(2, h.getAsJsonObject("fve_batch_topk").getAsJsonArray("perSource").size());
    }

    @Test
    void heldOutDocumentsOfPairedStoresAreEvaluated(@TempDir Path tmp) {
        CrosscoderCliTest.store(tmp.resolve("moe"), "moe", 12, 40, 1, -1);
        CrosscoderCliTest.store(tmp.resolve("dense"), "dense", 12, 40, 2, -1);
        Path run = tmp.resolve("run");
        CliRun r = CliRun.of("crosscoder", "train", "--store", tmp.resolve("moe").toString(), "--store",
                tmp.resolve("dense").toString(), "--hook", HOOK, "--hook", HOOK, "--latents", "32", "--k", "4",
                "--batch", "64", "--steps", "30", "--no-progress", "--out", run.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("held-out FVE"), r.out());
        JsonObject h = Json.read(run.resolve("summary.json"), JsonObject.class).getAsJsonObject("heldout");
        long tokens = h.get("tokens").getAsLong();
        // 10% of 40 documents of 32 tokens are held out by the seed: some, and far fewer than the 1280 rows
        assertTrue(tokens > 0 && tokens % 32 == 0 && tokens < 1280 / 2, "held-out tokens " + tokens);
        JsonObject topk = h.getAsJsonObject("fve_batch_topk");
        assertEquals(2, topk.getAsJsonArray("perSource").size());
        assertTrue(Double.isFinite(topk.get("pooled").getAsDouble()));
        assertTrue(Files.exists(run.resolve("checkpoint.safetensors")));
    }

    @Test
    void aRunIsNeverOverwrittenAndResumeRefusesOtherShapeOptions(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("run");
        assertEquals(0, CliRun.of(synthetic(run, 10)).code());
        byte[] before = Files.readAllBytes(run.resolve("checkpoint.safetensors"));
        byte[] summary = Files.readAllBytes(run.resolve("summary.json"));
        CliRun again = CliRun.of(synthetic(run, 10)); // no --resume: refused, not retrained over the first run
        assertEquals(2, again.code(), again.err());
        assertEquals("moescope: " + run + ": already holds a training run (a previous run); pass --resume to continue "
                + "it or choose another --out", again.err().strip());
        CliRun k = CliRun.of("crosscoder", "train", "--synthetic", "--k", "5", "--steps", "20", "--resume",
                "--no-progress", "--out", run.toString());
        assertEquals(2, k.code(), k.err());
        assertTrue(k.err().strip().startsWith("moescope: --resume: --k 5 differs from the run's --k 4"), k.err());
        assertArrayEquals(before, Files.readAllBytes(run.resolve("checkpoint.safetensors")));
        assertArrayEquals(summary, Files.readAllBytes(run.resolve("summary.json")));
        CliRun fresh = CliRun.of("crosscoder", "train", "--synthetic", "--k", "4", "--no-progress", "--out",
                tmp.resolve("fresh").toString());
        assertEquals(2, fresh.code(), fresh.err());
        assertEquals("moescope: --latents is required for a new run (--resume reads them from the run)",
                fresh.err().strip());
    }

    @Test
    void resumeWithoutACheckpointIsAUsageError(@TempDir Path tmp) {
        CliRun r = CliRun.of(synthetic(tmp.resolve("none"), 10, "--resume"));
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().split("\n").length, r.err());
        assertTrue(r.err().contains("--resume: no checkpoint.safetensors"), r.err());
    }
}
