package dev.moescope.cli.bench;

import com.google.gson.JsonObject;
import dev.moescope.cli.CliRun;
import dev.moescope.core.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code moescope bench crosscoder} on a tiny shape runs both steps (the Java trainer and the dense PyTorch
 * reference under /usr/bin/python3) side by side, alternating for two rounds, and reports the best-round and median
 * ratios, the phases and the load.
 */
class CrosscoderBenchTest {

    @Test
    void runsBothStepsAndWritesTheRatio(@TempDir Path tmp) {
        Path reference = Path.of("..", "bench", "crosscoder", "reference.py");
        CliRun r = CliRun.of("bench", "crosscoder", "--d", "16", "--latents", "64", "--k", "4", "--shared", "4",
                "--batch", "64", "--steps", "2", "--warmup-steps", "1", "--threads", "1", "--rounds", "2", "--reference",
                reference.toString(), "--out", tmp.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("ratio moescope / reference"), r.out());
        assertTrue(r.out().contains("round 2: moescope"), r.out());
        assertTrue(r.out().contains("select"), r.out());
        JsonObject s = Json.read(tmp.resolve("summary.json"), JsonObject.class);
        assertTrue(s.get("ratio").getAsDouble() > 0);
        assertTrue(s.getAsJsonObject("java").get("tokensPerSecond").getAsDouble() > 0);
        assertTrue(s.getAsJsonObject("reference").has("phases_ms"));
        assertEquals(2, s.getAsJsonArray("rounds").size());
        assertTrue(s.get("medianRoundRatio").getAsDouble() > 0);
    }

    @Test
    void aMissingReferenceIsAUsageError(@TempDir Path tmp) {
        CliRun r = CliRun.of("bench", "crosscoder", "--reference", tmp.resolve("none.py").toString(), "--out",
                tmp.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--reference"), r.err());
    }
}
