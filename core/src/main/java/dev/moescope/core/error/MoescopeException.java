package dev.moescope.core.error;

import java.nio.file.Path;

/**
 * A problem the user can understand and fix. The CLI prints {@link #getMessage()} as one line (no stack trace
 * unless {@code --verbose}) and exits with {@link #exitCode()}.
 *
 * <p>Messages name the thing at fault first, then the problem: {@code "runs/a/manifest.json: shard 3 is missing"}.
 */
public class MoescopeException extends RuntimeException {

    private final ExitCode exitCode;

    public MoescopeException(ExitCode exitCode, String message) {
        this(exitCode, message, null);
    }

    public MoescopeException(ExitCode exitCode, String message, Throwable cause) {
        super(oneLine(message), cause);
        this.exitCode = exitCode;
    }

    /** Bad input data in a file: exit 3, message {@code "<file>: <problem>"}. */
    public static MoescopeException badInput(Path file, String problem) {
        return new MoescopeException(ExitCode.BAD_INPUT, file + ": " + problem);
    }

    /** Bad input data in a file, keeping the low-level cause for {@code --verbose}. */
    public static MoescopeException badInput(Path file, String problem, Throwable cause) {
        return new MoescopeException(ExitCode.BAD_INPUT, file + ": " + problem, cause);
    }

    /** Bad input data not tied to one file (an empty corpus, mismatched stores): exit 3. */
    public static MoescopeException badInput(String problem) {
        return new MoescopeException(ExitCode.BAD_INPUT, problem);
    }

    /** An invalid parameter or combination of parameters: exit 2. */
    public static MoescopeException usage(String problem) {
        return new MoescopeException(ExitCode.USAGE, problem);
    }

    /** A failure that is not the user's input (I/O, native library, diverged training): exit 1. */
    public static MoescopeException failure(String problem, Throwable cause) {
        return new MoescopeException(ExitCode.FAILURE, problem, cause);
    }

    public ExitCode exitCode() {
        return exitCode;
    }

    /** Messages are printed on one line; collapse any line breaks a caller let through. */
    private static String oneLine(String message) {
        return message == null ? "" : message.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
    }
}
