package dev.moescope.cli;

import dev.moescope.core.error.MoescopeException;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line's contract: help, version, one-line errors and exit codes. */
class CliTest {

    static final List<String> GROUPS = List.of("toy", "probe", "store", "sae", "crosscoder", "demo", "bench");

    static CliRun run(CommandLine cl, String... args) {
        return CliRun.of(cl, args);
    }

    static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void helpListsEveryCommandGroup() {
        CliRun r = run("--help");
        assertEquals(0, r.code());
        for (String g : GROUPS) {
            assertTrue(r.out().contains("  " + g + " "), "help lists " + g + ":\n" + r.out());
        }
    }

    @Test
    void everyGroupPrintsRealHelp() {
        for (String g : GROUPS) {
            CliRun r = run(g, "--help");
            assertEquals(0, r.code(), g);
            assertTrue(r.out().startsWith("Usage: moescope " + g), g + ":\n" + r.out());
            String description = r.out().lines().skip(1).filter(l -> !l.isBlank()).findFirst().orElse("");
            assertTrue(description.strip().length() > 20, g + " has a description: " + r.out());
        }
    }

    @Test
    void versionNamesTheBuildAndNativeStack() {
        CliRun r = run("--version");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("moescope 0."), r.out());
        assertTrue(r.out().contains("DJL 0.35.1") && r.out().contains("ONNX Runtime") && r.out().contains("Arrow"));
    }

    @Test
    void unknownCommandIsOneLineUsageErrorWithExitCode2() {
        CliRun r = run("nonsense");
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("moescope: ") && r.err().contains("'nonsense'"), r.err());
    }

    @Test
    void badOptionValueIsUsageError() {
        CliRun r = run("doctor", "--threads", "many");
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Command(name = "fails")
    static final class Failing implements Callable<Integer> {
        @CommandLine.Mixin
        CommonOptions common;

        @CommandLine.Option(names = "--internal")
        boolean internal;

        @Override
        public Integer call() {
            if (internal) {
                throw new IllegalStateException("invariant broken");
            }
            throw new RuntimeException("wrapped", MoescopeException.badInput(Path.of("in.arrow"), "truncated file"));
        }
    }

    private static CommandLine failing() {
        CommandLine cl = new CommandLine(new Failing());
        ErrorReporting e = new ErrorReporting();
        return cl.setExecutionExceptionHandler(e).setParameterExceptionHandler(e);
    }

    @Test
    void badInputIsOneLineNamingTheFileWithExitCode3() {
        CliRun r = run(failing());
        assertEquals(3, r.code());
        assertEquals("moescope: in.arrow: truncated file", r.err().strip());
    }

    @Test
    void stackTracesOnlyWithVerbose() {
        CliRun quiet = run(failing(), "--internal");
        assertEquals(1, quiet.code());
        assertEquals(1, quiet.err().strip().lines().count(), quiet.err());
        assertTrue(quiet.err().contains("invariant broken") && quiet.err().contains("--verbose"));
        CliRun verbose = run(failing(), "--internal", "--verbose");
        assertEquals(1, verbose.code());
        assertTrue(verbose.err().contains("at dev.moescope.cli.CliTest"), verbose.err());
        run(failing(), "--verbose=false"); // reset the process-wide flag for other tests
        assertFalse(dev.moescope.core.Logging.verbose());
    }
}
