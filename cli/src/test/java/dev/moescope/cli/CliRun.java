package dev.moescope.cli;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

/** One in-process run of the {@code moescope} command line: its exit code and what it printed. */
public record CliRun(int code, String out, String err) {

    /** Runs {@code moescope args...} with the real command line and its error handling. */
    public static CliRun of(String... args) {
        return of(Moescope.commandLine(), args);
    }

    /** Runs {@code args} on a given command line (a test's own command with the same handlers). */
    public static CliRun of(CommandLine cl, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }
}
