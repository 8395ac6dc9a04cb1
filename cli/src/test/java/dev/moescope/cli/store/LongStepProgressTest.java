package dev.moescope.cli.store;

import dev.moescope.cli.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every pass over a whole store shows a progress bar on standard error (the bars draw on the process's
 * {@code System.err}, not picocli's writer), and {@code --no-progress} silences it.
 */
class LongStepProgressTest {

    /** Runs a command and returns what it drew on System.err, failing if it did not exit 0. */
    private static String barsOf(String... args) {
        CliRun.WithBars r = CliRun.withBars(args);
        assertEquals(0, r.run().code(), String.join(" ", args) + ": " + r.run().err());
        return r.bars();
    }

    @Test
    void storeVerifyAndEveryExportShowProgress(@TempDir Path dir) {
        Path store = dir.resolve("store");
        barsOf("store", "synth", "--out", store.toString(), "--docs", "30", "--hook", "blocks.0.resid_post:8",
                "--no-progress");
        assertTrue(barsOf("store", "verify", store.toString()).contains("verify"));
        for (List<String> export : List.of(List.of("npy"), List.of("parquet"), List.of("hf"),
                List.of("hf", "--sequences", "--context", "8"))) {
            Path out = dir.resolve(String.join("-", export));
            String[] args = new String[] {"store", "export", store.toString(), "--out", out.toString(), "--format"};
            String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(args), export.stream())
                    .toArray(String[]::new);
            String bars = barsOf(all);
            assertTrue(bars.contains("export " + export.get(0)), export + " drew no bar: " + bars);
        }
        assertFalse(barsOf("store", "verify", store.toString(), "--no-progress").contains("verify"));
    }
}
