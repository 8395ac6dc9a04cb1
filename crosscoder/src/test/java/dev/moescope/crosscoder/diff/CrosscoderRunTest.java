package dev.moescope.crosscoder.diff;

import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.io.Safetensors;
import dev.moescope.core.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A run directory that is missing, truncated or inconsistent is one-line bad input naming the file. */
class CrosscoderRunTest {

    private static Map<String, Safetensors.Tensor> weights(int f, int d) {
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        for (int s = 0; s < 2; s++) {
            t.put("W_enc." + s, Safetensors.Tensor.f32(new float[d * f], d, f));
            t.put("W_dec." + s, Safetensors.Tensor.f32(new float[f * d], f, d));
            t.put("b_dec." + s, Safetensors.Tensor.f32(new float[d], d));
            t.put("input_scale." + s, Safetensors.Tensor.f32(new float[]{1f}, 1));
        }
        t.put("b_enc", Safetensors.Tensor.f32(new float[f], f));
        t.put("threshold", Safetensors.Tensor.f32(new float[]{0.5f}, 1));
        return t;
    }

    private static void cfg(Path run, int latents, int k) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("latents", latents);
        c.put("k", k);
        c.put("shared", 0);
        c.put("selection", "CROSSCODER");
        c.put("seed", 1);
        Json.write(run.resolve(CrosscoderRun.CONFIG), Map.of("config", c));
    }

    private static void assertBadInput(Path run, String fileName, String contains) {
        MoescopeException e = assertThrows(MoescopeException.class, () -> CrosscoderRun.open(run));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode(), e.getMessage());
        assertTrue(e.getMessage().contains(fileName) && e.getMessage().contains(contains), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void opensAWellFormedRun(@TempDir Path run) {
        Safetensors.write(run.resolve(CrosscoderRun.WEIGHTS), weights(8, 4), Map.of());
        cfg(run, 8, 2);
        CrosscoderRun r = CrosscoderRun.open(run);
        assertEquals(8, r.weights().latents());
        assertEquals(2, r.k());
        assertTrue(r.stores().isEmpty());
    }

    @Test
    void missingTruncatedAndInconsistentRunsAreBadInput(@TempDir Path dir) throws Exception {
        assertBadInput(dir.resolve("nope"), "nope", "no such run directory");
        Path run = Files.createDirectories(dir.resolve("run"));
        assertBadInput(run, CrosscoderRun.WEIGHTS, "file not found");
        Safetensors.write(run.resolve(CrosscoderRun.WEIGHTS), weights(8, 4), Map.of());
        byte[] all = Files.readAllBytes(run.resolve(CrosscoderRun.WEIGHTS));
        Files.write(run.resolve(CrosscoderRun.WEIGHTS), java.util.Arrays.copyOf(all, all.length - 40));
        assertBadInput(run, CrosscoderRun.WEIGHTS, "outside the file");
        Map<String, Safetensors.Tensor> w = weights(8, 4);
        w.remove("W_enc.1");
        Safetensors.write(run.resolve(CrosscoderRun.WEIGHTS), w, Map.of());
        assertBadInput(run, CrosscoderRun.WEIGHTS, "W_enc.1");
        Safetensors.write(run.resolve(CrosscoderRun.WEIGHTS), weights(8, 4), Map.of());
        assertBadInput(run, CrosscoderRun.CONFIG, "file not found");
        cfg(run, 16, 2);
        assertBadInput(run, CrosscoderRun.CONFIG, "latents");
    }
}
