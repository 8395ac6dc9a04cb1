package dev.moescope.core.json;

import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {

    record Config(String hook, int width) {
    }

    @Test
    void roundTripsRecordsAndLeavesNoTemporaryFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("cfg.json");
        Json.write(f, new Config("blocks.3.resid_post", 64));
        assertEquals(new Config("blocks.3.resid_post", 64), Json.read(f, Config.class));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "only the target remains after an atomic write");
        }
    }

    @Test
    void replacingAFileNeverLeavesItTorn(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("manifest.json");
        Json.write(f, Map.of("shards", 1));
        Json.write(f, Map.of("shards", 2));
        assertTrue(Files.readString(f).contains("2"));
        assertFalse(Files.readString(f).contains("1"));
    }

    @Test
    void malformedJsonIsOneLineBadInputNamingTheFile(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("summary.json"), "{\"hook\": \"x\",\n \"width\": }");
        MoescopeException e = assertThrows(MoescopeException.class, () -> Json.read(f, Config.class));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        assertTrue(e.getMessage().startsWith(f.toString() + ": malformed JSON"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
