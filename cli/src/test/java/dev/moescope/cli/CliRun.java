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

    /** A run and what the process drew on {@code System.err} meanwhile. */
    public record WithBars(CliRun run, String bars) {
    }

    /**
     * Runs {@code moescope args...} with progress bars on, also capturing {@code System.err}: the bars draw there,
     * not on picocli's writer ({@code --no-progress} is process-wide, so an earlier command may have turned them off).
     */
    public static WithBars withBars(String... args) {
        dev.moescope.core.progress.Progress.setEnabled(true);
        java.io.PrintStream saved = System.err;
        java.io.ByteArrayOutputStream bars = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(bars, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            return new WithBars(of(args), bars.toString(java.nio.charset.StandardCharsets.UTF_8));
        } finally {
            System.setErr(saved);
            dev.moescope.core.progress.Progress.setEnabled(true);
        }
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
