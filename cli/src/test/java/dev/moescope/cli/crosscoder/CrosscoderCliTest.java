package dev.moescope.cli.crosscoder;

import com.google.gson.JsonObject;
import dev.moescope.cli.CliRun;
import dev.moescope.core.io.Safetensors;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.store.Identity;
import dev.moescope.store.StoreSpec;
import dev.moescope.store.StoreWriter;
import dev.moescope.store.TokenRows;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code moescope crosscoder train} end to end on two stores written on the same tokens, and its bad inputs:
 * misaligned stores (exit 3), a shared count above F (exit 3), a hook count that does not match (exit 2); one line
 * each, nothing written.
 */
class CrosscoderCliTest {

    private static final String HOOK = "blocks.2.resid_post";

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private static void assertOneLineError(CliRun r, int code, String contains) {
        assertEquals(code, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, r.err());
        assertTrue(lines[0].startsWith("moescope: ") && lines[0].contains(contains), r.err());
    }

    /** A store of {@code docs} documents of 32 tokens, width {@code d}; token ids r % 40 except at {@code badRow}. */
    static void store(Path dir, String model, int d, int docs, long seed, long badRow) {
        StoreSpec spec = StoreSpec.builder(new Identity(model, "0"), new Identity("none", "0"))
                .hook(HOOK, d).batchRows(32).shardRows(256).build();
        Random r = new Random(seed);
        try (StoreWriter w = StoreWriter.create(dir, spec, Provenance.start("test store").build())) {
            long row = 0;
            for (int doc = 0; doc < docs; doc++) {
                int[] ids = new int[32];
                float[] x = new float[32 * d];
                for (int i = 0; i < 32; i++, row++) {
                    ids[i] = row == badRow ? 39 - (int) (row % 40) : (int) (row % 40);
                }
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.nextGaussian();
                }
                w.beginDocument("doc-" + doc, "prose");
                w.append(TokenRows.of(ids).hook(HOOK, x));
                w.endDocument();
            }
        }
    }

    private static String[] train(Path a, Path b, Path out, String shared) {
        return new String[]{"crosscoder", "train", "--store", a.toString(), "--store", b.toString(), "--hook", HOOK,
                "--hook", HOOK, "--latents", "32", "--k", "4", "--shared", shared, "--batch", "64", "--steps", "40",
                "--no-progress", "--out", out.toString()};
    }

    @Test
    void trainsOnPairedStoresAndWritesWeightsConfigAndSummary(@TempDir Path tmp) {
        store(tmp.resolve("moe"), "moe", 12, 30, 1, -1);
        store(tmp.resolve("dense"), "dense", 12, 30, 2, -1);
        Path run = tmp.resolve("run");
        CliRun r = run(train(tmp.resolve("moe"), tmp.resolve("dense"), run, "4"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("SHARED_DESIGNATED=4"), r.out());
        Safetensors.Contents w = Safetensors.read(run.resolve("crosscoder.safetensors"));
        assertEquals(32 * 12, w.floats(run, "W_dec.0").length);
        assertEquals(32 * 12, w.floats(run, "W_dec.1").length);
        float[] d0 = w.floats(run, "W_dec.0");
        float[] d1 = w.floats(run, "W_dec.1");
        for (int i = 0; i < 4 * 12; i++) { // designated shared latents: one decoder, tied across sources
            assertEquals(d0[i], d1[i], 0f);
        }
        assertFalse(java.util.Arrays.equals(d0, d1));
        JsonObject s = Json.read(run.resolve("summary.json"), JsonObject.class);
        assertEquals("crosscoder train", s.getAsJsonObject("provenance").get("operation").getAsString());
        assertEquals(2, s.getAsJsonObject("provenance").getAsJsonArray("inputs").size());
        assertTrue(Files.exists(run.resolve("cfg.json")));
    }

    @Test
    void misalignedStoresAreRefusedWithExit3AndNothingWritten(@TempDir Path tmp) {
        store(tmp.resolve("moe"), "moe", 12, 10, 1, -1);
        store(tmp.resolve("dense"), "dense", 12, 10, 2, 100);
        Path run = tmp.resolve("run");
        assertOneLineError(run(train(tmp.resolve("moe"), tmp.resolve("dense"), run, "0")), 3, "100");
        assertFalse(Files.exists(run));
    }

    @Test
    void sharedAboveLatentsIsBadInputAndUnpairedHooksAUsageError(@TempDir Path tmp) {
        store(tmp.resolve("moe"), "moe", 12, 10, 1, -1);
        store(tmp.resolve("dense"), "dense", 12, 10, 2, -1);
        Path run = tmp.resolve("run");
        assertOneLineError(run(train(tmp.resolve("moe"), tmp.resolve("dense"), run, "33")), 3, "--shared 33");
        assertOneLineError(run("crosscoder", "train", "--store", tmp.resolve("moe").toString(), "--store",
                tmp.resolve("dense").toString(), "--hook", HOOK, "--latents", "32", "--k", "4", "--out",
                run.toString()), 2, "one --hook per --store");
        assertFalse(Files.exists(run));
    }
}
