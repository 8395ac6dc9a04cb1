package dev.moescope.cli;

import dev.moescope.core.Logging;
import dev.moescope.core.Seeds;
import dev.moescope.core.progress.Progress;
import picocli.CommandLine.Option;

/**
 * Options every working command takes, with the same meaning everywhere: {@code --seed} for every random choice,
 * {@code --verbose} for logs and stack traces, {@code --no-progress} for quiet scripts, {@code --threads}.
 */
public final class CommonOptions {

    @Option(names = "--seed", paramLabel = "N", defaultValue = "" + Seeds.DEFAULT_SEED,
            description = "Seed for every random choice of this command (default: ${DEFAULT-VALUE}); recorded in provenance.")
    public long seed;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "CPU threads for compute (0 = one per core).")
    public int threads;

    @Option(names = {"-v", "--verbose"}, description = "Detailed logs, and stack traces with errors.")
    void setVerbose(boolean verbose) {
        Logging.configure(verbose);
    }

    @Option(names = "--no-progress", description = "Do not draw progress bars.")
    void setNoProgress(boolean off) {
        Progress.setEnabled(!off);
    }
}
