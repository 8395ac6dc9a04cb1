package dev.moescope.cli.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A PyTorch reference script run as a child process beside the Java side of a benchmark. The script prints its
 * measurements as one JSON object on its last {@code {...}} line; anything before it (warnings, progress) is ignored.
 * BLAS threads follow {@code threads} ({@code OMP_NUM_THREADS}), so both sides get the same cores.
 */
final class PythonReference {

    private PythonReference() {
    }

    /**
     * Runs {@code python script args...} and returns the JSON object it printed last. A missing script names the
     * options to fix ({@code skipOption} is how the command skips its reference); a script that fails or prints no
     * JSON is a one-line failure with the tail of its output.
     */
    static JsonObject run(String python, Path script, List<String> args, int threads, String skipOption) {
        requireScript(script, skipOption);
        List<String> cmd = new ArrayList<>(List.of(python, script.toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw MoescopeException.usage("--python " + python + ": cannot run: " + e.getMessage());
        }
        try {
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int rc = p.waitFor();
            List<String> lines = text.strip().lines().toList();
            String json = lines.stream().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElse(null);
            if (rc != 0 || json == null) {
                String tail = String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
                throw MoescopeException.failure(script + ": the PyTorch reference failed (exit " + rc + "): " + tail,
                        null);
            }
            return JsonParser.parseString(json).getAsJsonObject();
        } catch (IOException e) {
            throw MoescopeException.failure(script + ": cannot read the reference's output: " + e.getMessage(), e);
        } catch (JsonParseException | IllegalStateException e) {
            throw MoescopeException.failure(script + ": the reference printed malformed JSON: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw MoescopeException.failure("interrupted while running the reference " + script, e);
        }
    }

    /** Checks up front (before the Java side's minutes) that {@code script} exists; else a usage error naming it. */
    static void requireScript(Path script, String skipOption) {
        if (!Files.isRegularFile(script)) {
            throw MoescopeException.usage("--reference " + script + ": not found (run from the repository root, "
                    + "or pass --reference PATH, or " + skipOption + ")");
        }
    }

    /** {@code json} as plain maps, lists, strings and doubles, for a summary record to embed. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> asMap(JsonObject json) {
        return Json.gson().fromJson(json, Map.class);
    }
}
