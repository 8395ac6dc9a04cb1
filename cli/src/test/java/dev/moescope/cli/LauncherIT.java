package dev.moescope.cli;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The repository's {@code ./moescope} launcher runs from any directory and passes arguments and exit codes through. */
@Tag("slow")
class LauncherIT {

    private static final Path LAUNCHER = Path.of("..", "moescope").toAbsolutePath().normalize();

    record Result(int code, String output) {
    }

    private static Result launch(Path cwd, String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = LAUNCHER.toString();
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(5, TimeUnit.MINUTES));
        return new Result(p.exitValue(), out);
    }

    @Test
    void runsFromAnotherDirectoryAndPassesExitCodes(@TempDir Path elsewhere) throws Exception {
        Result version = launch(elsewhere, "--version");
        assertEquals(0, version.code(), version.output());
        assertTrue(version.output().startsWith("moescope "), version.output());
        Result unknown = launch(elsewhere, "nonsense");
        assertEquals(2, unknown.code(), unknown.output());
        assertEquals(1, unknown.output().strip().lines().count(), unknown.output());
        Result help = launch(elsewhere, "toy", "--help");
        assertEquals(0, help.code());
        assertTrue(help.output().startsWith("Usage: moescope toy"), help.output());
    }
}
