package dev.moescope.cli.demo;

import dev.moescope.cli.CliRun;
import dev.moescope.core.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Running the demo twice into one directory works; a directory that is not a demo output is never touched. */
class DemoOutputTest {

    @Test
    void aPreviousDemoRunIsReplacedStageByStage(@TempDir Path out) throws Exception {
        Files.createDirectories(out.resolve("stores/moe/shard-00000"));
        Files.writeString(out.resolve("stores/moe/shard-00000/tokens.arrow"), "x");
        Files.createDirectories(out.resolve("sae/moe/eval"));
        Files.writeString(out.resolve("sae/moe/eval/summary.json"), "{}");
        Files.writeString(out.resolve("report.html"), "<html></html>");
        Files.writeString(out.resolve("notes.txt"), "mine"); // not the demo's: stays
        Json.write(out.resolve("summary.json"), Map.of("report", "report.html", "stages", List.of(
                Map.of("key", "store.moe", "out", "stores/moe"), Map.of("key", "sae.eval", "out", "sae/moe/eval"),
                Map.of("key", "evil", "out", "../outside"))));
        Path outside = Files.createDirectories(out.resolveSibling("outside"));

        assertTrue(DemoCommand.clearPreviousRun(out));
        assertFalse(Files.exists(out.resolve("stores/moe")));
        assertFalse(Files.exists(out.resolve("sae/moe/eval")));
        assertFalse(Files.exists(out.resolve("report.html")) || Files.exists(out.resolve("summary.json")));
        assertTrue(Files.exists(out.resolve("notes.txt")));
        assertTrue(Files.isDirectory(outside), "a stage path outside --out must never be deleted");
    }

    @Test
    void aDirectoryThatIsNotADemoOutputIsRefused(@TempDir Path dir) throws Exception {
        assertFalse(DemoCommand.clearPreviousRun(dir.resolve("absent")));
        assertFalse(DemoCommand.clearPreviousRun(dir));
        Files.writeString(dir.resolve("thesis.tex"), "precious");
        CliRun run = CliRun.of("demo", "--out", dir.toString());
        assertEquals(3, run.code(), run.err());
        assertTrue(run.err().contains("not a moescope demo output"), run.err());
        assertEquals("precious", Files.readString(dir.resolve("thesis.tex")));
        assertThrows(Exception.class, () -> DemoCommand.clearPreviousRun(dir.resolve("thesis.tex")));
    }

    @Test
    void reportOnlyNeedsADemoOutput(@TempDir Path dir) throws Exception {
        // a toy run's summary.json is not a demo's: refused (one line, exit 3, naming it), no report written
        Json.write(dir.resolve("summary.json"), Map.of("experiment", "fig5", "results", Map.of()));
        CliRun run = CliRun.of("demo", "--report-only", "--out", dir.toString());
        assertEquals(3, run.code(), run.err());
        assertEquals(1, run.err().strip().lines().count(), run.err());
        assertTrue(run.err().startsWith("moescope: " + dir.resolve("summary.json") + ": not a moescope demo summary"),
                run.err());
        try (var entries = Files.list(dir)) {
            assertEquals(1, entries.count(), "wrote something next to another command's summary");
        }
    }
}
