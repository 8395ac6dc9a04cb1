package dev.moescope.cli;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A full CLI run, in a fresh JVM with an empty DJL cache (so libtorch and the tokenizers library are unpacked from
 * the jars as on a new machine), makes no outbound network attempt.
 */
@Tag("slow")
class NoNetworkIT {

    @Test
    void theGuardSeesAnOutboundAttempt(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("network.log");
        Process p = child(dir, log, "--try-network");
        assertTrue(p.waitFor(2, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), read(dir.resolve("output.txt")));
        assertTrue(Files.exists(log) && Files.readString(log).contains("example.com"),
                "the guard must record a deliberate attempt, otherwise the next test proves nothing");
    }

    @Test
    void aFullRunMakesNoOutboundConnection(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("network.log");
        Process p = child(dir, log, "demo", "--out", dir.resolve("demo").toString());
        assertTrue(p.waitFor(10, TimeUnit.MINUTES));
        String output = read(dir.resolve("output.txt"));
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.contains("PyTorch") && output.contains("ONNX Runtime") && output.contains("tokenizers"), output);
        assertFalse(Files.exists(log), () -> "outbound attempts: " + read(log));
    }

    private static Process child(Path dir, Path log, String... args) throws Exception {
        Path cache = Files.createDirectories(dir.resolve("djl-cache"));
        String cp = String.join(File.pathSeparator, "target/test-classes", "target/moescope.jar");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.security.manager=allow", "--add-opens=java.base/java.nio=ALL-UNNAMED",
                "-cp", cp, NoNetworkMain.class.getName(), log.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("output.txt").toFile());
        // an empty engine cache: the run unpacks the native libraries as on a fresh machine
        pb.environment().put("DJL_CACHE_DIR", cache.toString());
        pb.environment().put("ENGINE_CACHE_DIR", cache.toString());
        pb.environment().remove("DJL_OFFLINE");
        return pb.start();
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return e.toString();
        }
    }
}
