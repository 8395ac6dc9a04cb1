package dev.moescope.cli;

import dev.moescope.core.Logging;
import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import picocli.CommandLine;

import java.io.PrintWriter;

/**
 * Every failure reaches the user as one line on standard error, {@code moescope: <what>: <problem>}, with the
 * exit code of {@link ExitCode}: 2 for a wrong command line, 3 for bad input data, 1 for anything else. The stack
 * trace is printed only with {@code --verbose}.
 */
final class ErrorReporting implements CommandLine.IParameterExceptionHandler, CommandLine.IExecutionExceptionHandler {

    @Override
    public int handleParseException(CommandLine.ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println("moescope: " + oneLine(ex.getMessage()) + " (see '" + cl.getCommandSpec().qualifiedName()
                + " --help')");
        err.flush();
        return ExitCode.USAGE.code();
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        MoescopeException known = find(ex);
        int code;
        if (known != null) {
            err.println("moescope: " + known.getMessage());
            code = known.exitCode().code();
        } else {
            err.println("moescope: internal error: " + oneLine(String.valueOf(ex))
                    + (Logging.verbose() ? "" : " (run with --verbose for details)"));
            code = ExitCode.FAILURE.code();
        }
        if (Logging.verbose()) {
            ex.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    /** The user-facing error, also when a library wrapped it (a stream pipeline, a picocli wrapper). */
    private static MoescopeException find(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof MoescopeException m) {
                return m;
            }
        }
        return null;
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
    }
}
