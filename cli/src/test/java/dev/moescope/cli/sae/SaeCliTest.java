package dev.moescope.cli.sae;


import dev.moescope.cli.CliRun;
import dev.moescope.sae.data.NpySource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code moescope sae} end to end on tiny inputs, and every bad-input path: one line, exit 2 or 3. */
class SaeCliTest {

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    /** Writes a float32 C-order .npy of {@code rows x width} Gaussian values, with NaN at {@code nanRow} (-1: none). */
    static Path npy(Path file, int rows, int width, int nanRow) throws IOException {
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", " + width + "), }";
        int total = 10 + header.length() + 1;
        int pad = (64 - total % 64) % 64;
        header = header + " ".repeat(pad) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + rows * width * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII));
        Random r = new Random(rows * 31L + width);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < width; j++) {
                b.putFloat(i == nanRow && j == 2 ? Float.NaN : (float) r.nextGaussian());
            }
        }
        Files.write(file, b.array());
        return file;
    }

    private static void assertOneLineError(CliRun r, int code, String contains) {
        assertEquals(code, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, r.err());
        assertTrue(lines[0].startsWith("moescope: ") && lines[0].contains(contains), r.err());
    }

    @Test
    void trainsAndEvaluatesOnSyntheticData(@TempDir Path dir) {
        Path run = dir.resolve("run");
        CliRun t = run("sae", "train", "--synthetic", "--synthetic-width", "16", "--synthetic-features", "24",
                "--synthetic-validation-rows", "512", "--latents", "32", "--k", "3", "--batch", "128", "--steps", "40",
                "--warmup", "5", "--threshold-start", "10", "--lr", "1e-3", "--threads", "2", "--no-progress",
                "--out", run.toString());
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("trained 40 steps"), t.out());
        for (String f : new String[]{"sae_weights.safetensors", "cfg.json", "checkpoint.safetensors", "summary.json"}) {
            assertTrue(Files.exists(run.resolve(f)), f);
        }
        CliRun e = run("sae", "eval", run.toString(), "--batch", "128", "--threads", "2");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("FVE pooled") && e.out().contains("true directions recovered"), e.out());
        assertTrue(Files.exists(run.resolve("eval/summary.json")) && Files.exists(run.resolve("eval/density.png")));
        // continuing the run with more steps
        CliRun more = run("sae", "train", "--synthetic", "--synthetic-width", "16", "--synthetic-features", "24",
                "--synthetic-validation-rows", "512", "--latents", "32", "--k", "3", "--batch", "128", "--steps", "50",
                "--warmup", "5", "--threshold-start", "10", "--lr", "1e-3", "--threads", "2", "--no-progress",
                "--resume", "--out", run.toString());
        assertEquals(0, more.code(), more.err());
        assertTrue(more.out().contains("trained 50 steps (10 this run"), more.out());
    }

    @Test
    void badOptionsExitTwo(@TempDir Path dir) {
        assertOneLineError(run("sae", "train", "--synthetic", "--latents", "8", "--k", "8", "--out",
                dir.resolve("r").toString()), 2, "k must be below --latents 8");
        assertOneLineError(run("sae", "train", "--store", dir.toString(), "--latents", "8", "--k", "2",
                "--out", dir.resolve("r").toString()), 2, "--store needs --hook");
        assertOneLineError(run("sae", "train", "--synthetic", "--latents", "64", "--k", "4", "--device", "cuda",
                "--out", dir.resolve("r").toString()), 2, "--device cuda");
    }

    @Test
    void badDataExitsThreeWithOneLine(@TempDir Path dir) throws IOException {
        // a row the first training batch reads (the split into training and validation blocks is seeded)
        long row;
        try (NpySource clean = new NpySource(npy(dir.resolve("nan.npy"), 2000, 8, -1), 0)) {
            row = clean.trainBatch(0, 256).rowIds()[7];
        }
        Path nan = npy(dir.resolve("nan.npy"), 2000, 8, (int) row);
        CliRun r = run("sae", "train", "--npy", nan.toString(), "--latents", "16", "--k", "2", "--batch", "256",
                "--steps", "3", "--warmup", "1", "--threads", "2", "--no-progress", "--out",
                dir.resolve("nan-run").toString());
        assertOneLineError(r, 3, "row " + row + " column 2 is NaN");
        assertTrue(r.err().contains("nan.npy"), r.err());

        Path small = npy(dir.resolve("small.npy"), 300, 8, -1);
        assertOneLineError(run("sae", "train", "--npy", small.toString(), "--latents", "16", "--k", "2", "--batch",
                "512", "--out", dir.resolve("small-run").toString()), 3, "fewer than one batch of 512");

        Path notNpy = dir.resolve("junk.npy");
        Files.writeString(notNpy, "hello");
        assertOneLineError(run("sae", "train", "--npy", notNpy.toString(), "--latents", "16", "--k", "2", "--out",
                dir.resolve("junk-run").toString()), 3, "not a .npy file");
    }

    @Test
    void resumeProblemsLeaveTheCheckpointIntact(@TempDir Path dir) throws IOException {
        Path a = npy(dir.resolve("a.npy"), 1024, 8, -1);
        Path b = npy(dir.resolve("b.npy"), 1024, 6, -1);
        Path run = dir.resolve("run");
        CliRun first = run("sae", "train", "--npy", a.toString(), "--latents", "16", "--k", "2", "--batch", "128",
                "--steps", "4", "--warmup", "1", "--threads", "2", "--no-progress", "--out", run.toString());
        assertEquals(0, first.code(), first.err());
        byte[] before = Files.readAllBytes(run.resolve("checkpoint.safetensors"));

        assertOneLineError(run("sae", "train", "--npy", b.toString(), "--latents", "16", "--k", "2", "--batch", "128",
                "--steps", "8", "--resume", "--no-progress", "--out", run.toString()), 3, "width mismatch");
        assertOneLineError(run("sae", "train", "--npy", a.toString(), "--latents", "16", "--k", "2", "--batch", "128",
                "--steps", "8", "--no-progress", "--out", run.toString()), 2, "already holds a training run");
        assertOneLineError(run("sae", "train", "--npy", a.toString(), "--latents", "32", "--k", "2", "--batch", "128",
                "--steps", "8", "--resume", "--no-progress", "--out", run.toString()), 2, "--latents 16");
        assertOneLineError(run("sae", "train", "--npy", a.toString(), "--latents", "16", "--k", "2", "--batch", "128",
                "--steps", "8", "--resume", "--no-progress", "--out", dir.resolve("nothing").toString()), 3,
                "no checkpoint to resume from");
        assertArrayEquals(before, Files.readAllBytes(run.resolve("checkpoint.safetensors")), "checkpoint intact");
    }

    @Test
    void resumeReadsTheShapeOptionsFromTheRunAndANewRunNeedsThem(@TempDir Path dir) throws IOException {
        Path a = npy(dir.resolve("a.npy"), 1024, 8, -1);
        Path run = dir.resolve("run");
        Path fresh = dir.resolve("fresh");
        assertOneLineError(run("sae", "train", "--npy", a.toString(), "--steps", "4", "--no-progress", "--out",
                fresh.toString()), 2, "--latents and --k are required for a new run");
        assertOneLineError(run("sae", "train", "--npy", a.toString(), "--latents", "16", "--steps", "4",
                "--no-progress", "--out", fresh.toString()), 2, "--k is required for a new run");
        assertTrue(!Files.exists(fresh), "nothing written for a usage error");
        CliRun first = run("sae", "train", "--npy", a.toString(), "--latents", "16", "--k", "2", "--batch", "128",
                "--steps", "4", "--warmup", "1", "--threads", "2", "--no-progress", "--out", run.toString());
        assertEquals(0, first.code(), first.err());
        // a --batch that differs from the run's (here: the default 4096 vs 128) is refused, naming both
        assertOneLineError(run("sae", "train", "--npy", a.toString(), "--batch", "4096", "--steps", "8", "--resume",
                "--no-progress", "--out", run.toString()), 2, "--batch 4096 differs from the run's --batch 128");
        // without --latents/--k/--batch the run's are used (--batch's default 4096 would not fit 1024 rows)
        CliRun resumed = run("sae", "train", "--npy", a.toString(), "--steps", "8", "--warmup", "1", "--threads", "2",
                "--resume", "--no-progress", "--out", run.toString());
        assertEquals(0, resumed.code(), resumed.err());
        com.google.gson.JsonObject config = com.google.gson.JsonParser.parseString(
                Files.readString(run.resolve("summary.json"))).getAsJsonObject().getAsJsonObject("config");
        assertEquals(16, config.get("latents").getAsInt());
        assertEquals(2, config.get("k").getAsInt());
        assertEquals(128, config.get("batchSize").getAsInt());
        assertEquals(8, config.get("steps").getAsInt());
    }
}
