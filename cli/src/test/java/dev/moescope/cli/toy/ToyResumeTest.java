package dev.moescope.cli.toy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.cli.CliRun;
import dev.moescope.cli.Moescope;
import dev.moescope.core.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code toy reproduce --resume}: a run killed with SIGKILL after its first training batch continues from its
 * checkpoints and ends with the summary an uninterrupted run writes.
 */
class ToyResumeTest {

    private static final List<String> LOSS = List.of("toy", "reproduce", "loss", "--quick", "--steps", "300",
            "--threads", "1", "--seed", "4");

    private static String[] args(Path out, String... more) {
        java.util.ArrayList<String> a = new java.util.ArrayList<>(LOSS);
        a.add("--out");
        a.add(out.toString());
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void aKilledRunResumesFromItsCheckpointsToTheSameSummary(@TempDir Path tmp) throws Exception {
        Path killed = tmp.resolve("killed");
        Process p = new ProcessBuilder(childCommand(args(killed, "--no-progress")))
                .redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
        Path checkpoints = killed.resolve("checkpoints");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (p.isAlive() && !hasCheckpoint(checkpoints) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        p.destroyForcibly(); // SIGKILL: no shutdown hooks, no finally blocks
        p.waitFor();
        assertTrue(hasCheckpoint(checkpoints), "no checkpoint before the kill: " + Files.readString(tmp.resolve("child.log")));
        assertFalse(Files.exists(killed.resolve("summary.json")), "the child finished before it was killed");

        // without --resume the interrupted run is refused, and kept
        CliRun refused = CliRun.of(args(killed, "--no-progress"));
        assertEquals(2, refused.code(), refused.err());
        assertTrue(refused.err().contains("pass --resume"), refused.err());
        assertTrue(hasCheckpoint(checkpoints));

        CliRun.WithBars resumed = CliRun.withBars(args(killed, "--resume"));
        assertEquals(0, resumed.run().code(), resumed.run().err());
        assertTrue(resumed.bars().contains("kept from the interrupted run"), resumed.bars());
        assertFalse(Files.exists(checkpoints), "checkpoints outlive the finished run");

        Path whole = tmp.resolve("whole");
        CliRun uninterrupted = CliRun.of(args(whole, "--no-progress"));
        assertEquals(0, uninterrupted.code(), uninterrupted.err());
        assertEquals(families(whole), families(killed));
        assertSpreadMatchesTheSavedRuns(whole);

        // a finished run is kept as it is
        byte[] summary = Files.readAllBytes(killed.resolve("summary.json"));
        CliRun again = CliRun.of(args(killed, "--resume", "--no-progress"));
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("finished in an earlier run, kept"), again.out());
        assertTrue(java.util.Arrays.equals(summary, Files.readAllBytes(killed.resolve("summary.json"))));
    }

    /**
     * The summary's run-to-run spread of the held-out loss is the sample sd, per point, of the losses the family's
     * weights file holds (instances in point-major order, --quick: 2 runs per point).
     */
    private static void assertSpreadMatchesTheSavedRuns(Path run) throws Exception {
        JsonObject s = JsonParser.parseString(Files.readString(run.resolve("summary.json"))).getAsJsonObject();
        JsonObject results = s.getAsJsonObject("results");
        int runs = results.get("runs_per_point").getAsInt();
        assertEquals(2, runs);
        for (var f : results.getAsJsonArray("families")) {
            JsonObject o = f.getAsJsonObject();
            String label = o.get("label").getAsString();
            Path file = run.resolve("loss-" + label.replace(' ', '_').replace("=", "") + ".safetensors");
            float[] losses = Safetensors.read(file).floats(file, "held_out_loss");
            var sd = o.getAsJsonArray("sd_held_out_loss");
            assertEquals(losses.length / runs, sd.size(), label);
            for (int c = 0; c < sd.size(); c++) {
                double a = losses[c * runs];
                double b = losses[c * runs + 1];
                double expected = Math.abs(a - b) / Math.sqrt(2); // the sample sd of two values
                assertEquals(expected, sd.get(c).getAsDouble(), 1e-6 * Math.max(1, expected), label + " point " + c);
            }
            assertTrue(sd.get(0).getAsDouble() > 0, label + ": two seeds give two different losses");
        }
    }

    /** Each family's figures (losses and features per dimension), without the timings. */
    private static String families(Path run) throws Exception {
        JsonObject s = JsonParser.parseString(Files.readString(run.resolve("summary.json"))).getAsJsonObject();
        StringBuilder sb = new StringBuilder();
        for (var f : s.getAsJsonObject("results").getAsJsonArray("families")) {
            JsonObject o = f.getAsJsonObject();
            sb.append(o.get("label")).append(o.get("mean_held_out_loss")).append(o.get("mean_last_step_loss"))
                    .append(o.get("sd_held_out_loss")).append(o.get("features_per_dimension")).append('\n');
        }
        return sb.toString();
    }

    private static boolean hasCheckpoint(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (var files = Files.list(dir)) {
            return files.anyMatch(f -> f.getFileName().toString().endsWith(".safetensors"));
        }
    }

    private static List<String> childCommand(String[] args) {
        String java = ProcessHandle.current().info().command().orElse("java");
        java.util.ArrayList<String> cmd = new java.util.ArrayList<>(List.of(java,
                "--add-opens=java.base/java.nio=ALL-UNNAMED", "-Djava.awt.headless=true", "-Xmx512m", "-cp",
                System.getProperty("java.class.path"), Moescope.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }
}
