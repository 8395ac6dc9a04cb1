package dev.moescope.cli.bench;

import com.google.gson.JsonObject;
import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reference runner, with {@code sh} standing in for Python so the test needs no torch. */
class PythonReferenceTest {

    @TempDir
    Path dir;

    private Path script(String body) throws Exception {
        Path s = dir.resolve("reference.sh");
        Files.writeString(s, body);
        return s;
    }

    @Test
    void returnsTheLastJsonLineGivenTheArgumentsAndThreads() throws Exception {
        Path s = script("""
                echo "warming up"
                echo '{"stale": true}'
                echo "args=$*"
                printf '{"tokens_per_s": 12.5, "threads": "%s", "first": "%s"}\\n' "$OMP_NUM_THREADS" "$1"
                """);
        JsonObject j = PythonReference.run("sh", s, List.of("--d", "8"), 3, "--skip-reference");
        assertEquals(12.5, j.get("tokens_per_s").getAsDouble());
        assertEquals("3", j.get("threads").getAsString(), "BLAS threads follow --threads");
        assertEquals("--d", j.get("first").getAsString());
        assertFalse(j.has("stale"));
        assertEquals(12.5, ((Number) PythonReference.asMap(j).get("tokens_per_s")).doubleValue());
    }

    @Test
    void aFailingScriptIsOneLineNamingItWithTheTailOfItsOutput() throws Exception {
        Path s = script("""
                echo "line one"
                echo "ModuleNotFoundError: No module named 'torch'"
                exit 4
                """);
        MoescopeException e = assertThrows(MoescopeException.class,
                () -> PythonReference.run("sh", s, List.of(), 1, "--skip-reference"));
        assertEquals(ExitCode.FAILURE, e.exitCode());
        assertTrue(e.getMessage().startsWith(s + ": the PyTorch reference failed (exit 4): line one | "
                + "ModuleNotFoundError"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));

        Path silent = script("echo 'no json here'\n");
        e = assertThrows(MoescopeException.class, () -> PythonReference.run("sh", silent, List.of(), 1, "x"));
        assertTrue(e.getMessage().contains("failed (exit 0): no json here"), e.getMessage());

        Path broken = script("echo '{\"unterminated\": '\n");
        e = assertThrows(MoescopeException.class, () -> PythonReference.run("sh", broken, List.of(), 1, "x"));
        assertTrue(e.getMessage().startsWith(broken + ": the reference printed malformed JSON"), e.getMessage());
    }

    @Test
    void aMissingScriptOrInterpreterIsAUsageErrorNamingTheOption() throws Exception {
        MoescopeException e = assertThrows(MoescopeException.class,
                () -> PythonReference.run("sh", dir.resolve("nowhere.py"), List.of(), 1, "--reference none"));
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertTrue(e.getMessage().startsWith("--reference " + dir.resolve("nowhere.py") + ": not found"), e.getMessage());
        assertTrue(e.getMessage().endsWith("or --reference none)"), e.getMessage());

        Path s = script("echo '{}'\n");
        e = assertThrows(MoescopeException.class,
                () -> PythonReference.run(dir.resolve("no-python").toString(), s, List.of(), 1, "x"));
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertTrue(e.getMessage().startsWith("--python " + dir.resolve("no-python") + ": cannot run"), e.getMessage());
    }

    @Test
    void machineLoadIsThreeNumbersOrUnknown() {
        String load = MachineLoad.now();
        assertTrue(load.equals("unknown") || load.matches("[0-9.]+ [0-9.]+ [0-9.]+"), load);
    }
}
