package dev.moescope.core.progress;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.time.Duration;

/**
 * A progress bar with rate and ETA for one long step. On a terminal it redraws in place on standard error; when
 * standard error is not a terminal (CI, a log file) it prints a plain line every few seconds instead; with
 * {@code --no-progress} it prints nothing. Standard output stays clean for results either way.
 */
public final class Progress implements AutoCloseable {

    private static volatile boolean enabled = true;

    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    /** Turns every progress bar of this process on or off ({@code --no-progress}). */
    public static void setEnabled(boolean on) {
        enabled = on;
    }

    /**
     * Starts a bar for {@code task}, counting {@code total} units called {@code unit} (e.g. "tok", "step"); a
     * total of -1 means unknown.
     */
    public static Progress start(String task, long total, String unit) {
        if (!enabled) {
            return new Progress(null);
        }
        PrintStream err = System.err;
        ProgressBarBuilder b = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(total)
                .setUnit(" " + unit, 1)
                .showSpeed()
                .setStyle(ProgressBarStyle.ASCII)
                .continuousUpdate();
        if (System.console() != null) {
            b.setConsumer(new ConsoleProgressBarConsumer(err)).setUpdateIntervalMillis(250);
        } else {
            b.setConsumer(new DelegatingProgressBarConsumer(err::println)).setUpdateIntervalMillis(
                    (int) Duration.ofSeconds(10).toMillis());
        }
        return new Progress(b.build());
    }

    public void stepBy(long n) {
        if (bar != null) {
            bar.stepBy(n);
        }
    }

    public void stepTo(long n) {
        if (bar != null) {
            bar.stepTo(n);
        }
    }

    /** Short text after the bar, e.g. {@code "loss 0.0123  L0 32.0"}. */
    public void message(String text) {
        if (bar != null) {
            bar.setExtraMessage(" " + text);
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
