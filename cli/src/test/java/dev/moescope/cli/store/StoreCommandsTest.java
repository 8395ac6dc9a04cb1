package dev.moescope.cli.store;


import dev.moescope.cli.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The store commands end to end through the real command line: output, exit codes, one-line errors. */
class StoreCommandsTest {

    @TempDir
    Path tmp;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void synthInspectVerifyExport() throws Exception {
        Path store = tmp.resolve("s");
        CliRun synth = run("store", "synth", "--out", store.toString(), "--docs", "60", "--hook", "blocks.0.resid_post:8",
                "--routing", "0:2:4", "--shard-rows", "500", "--no-progress");
        assertEquals(0, synth.code(), synth.err());
        // a second synth into the store is the wrong --out (exit 2, the previous-run refusal); --docs 0 is a usage error
        CliRun again = run("store", "synth", "--out", store.toString(), "--docs", "60", "--no-progress");
        assertEquals(2, again.code(), again.err());
        assertTrue(again.err().strip().startsWith("moescope: " + store + ": already holds a store"), again.err());
        CliRun none = run("store", "synth", "--out", tmp.resolve("zero").toString(), "--docs", "0", "--no-progress");
        assertEquals(2, none.code(), none.err());
        assertEquals("moescope: --docs must be at least 1, got 0", none.err().strip());
        assertFalse(Files.exists(tmp.resolve("zero")), "nothing written for a usage error");
        CliRun inspect = run("store", "inspect", store.toString());
        assertEquals(0, inspect.code(), inspect.err());
        assertTrue(inspect.out().contains("blocks.0.resid_post          width 8      float32"), inspect.out());
        assertTrue(inspect.out().contains("60 documents"), inspect.out());
        CliRun verify = run("store", "verify", store.toString());
        assertEquals(0, verify.code(), verify.err());
        assertTrue(verify.out().startsWith("ok: "), verify.out());
        for (String format : new String[]{"hf", "npy", "parquet"}) {
            Path out = tmp.resolve(format);
            CliRun export = run("store", "export", store.toString(), "--format", format, "--out", out.toString());
            assertEquals(0, export.code(), export.err());
            assertTrue(Files.exists(out.resolve("summary.json")));
        }
        CliRun seq = run("store", "export", store.toString(), "--format", "hf", "--sequences", "--context", "8",
                "--out", tmp.resolve("seq").toString());
        assertEquals(0, seq.code(), seq.err());
        assertTrue(seq.out().contains("sequences of 8 tokens"), seq.out());

        // damage: verify exits 3 with one line naming the file
        Path victim = store.resolve("shard-00000/blocks.0.resid_post.arrow");
        try (RandomAccessFile raf = new RandomAccessFile(victim.toFile(), "rw")) {
            raf.seek(raf.length() / 2);
            raf.write(new byte[]{7, 7, 7, 7});
        }
        CliRun bad = run("store", "verify", store.toString());
        assertEquals(3, bad.code());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
        assertTrue(bad.err().contains(victim.toString()) && bad.err().contains("checksum mismatch"), bad.err());

        CliRun wrongHook = run("store", "export", store.toString(), "--format", "npy", "--hook", "blocks.9.x",
                "--out", tmp.resolve("x").toString());
        assertEquals(3, wrongHook.code());
        assertTrue(wrongHook.err().contains("no hook 'blocks.9.x'"), wrongHook.err());
        CliRun badFormat = run("store", "export", store.toString(), "--format", "csv", "--out", tmp.resolve("y").toString());
        assertEquals(2, badFormat.code());
    }
}
