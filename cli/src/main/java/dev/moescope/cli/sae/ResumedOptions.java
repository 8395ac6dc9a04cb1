package dev.moescope.cli.sae;

import dev.moescope.core.error.MoescopeException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The shape options of a dictionary training run (--latents, --k, --batch, ...) that {@code --resume} reads back from
 * the run's checkpoint: a new run must give the required ones; a resumed run may omit any of them, and one it
 * gives must equal the run's. Shared by {@code sae train} and {@code crosscoder train}.
 */
public final class ResumedOptions {

    private ResumedOptions() {
    }

    /**
     * For a new run: the options not given among {@code nameThenValue} (option name, then its value, null = not
     * given, repeated) are one usage error naming them all.
     */
    public static void requireForNewRun(Object... nameThenValue) {
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < nameThenValue.length; i += 2) {
            if (nameThenValue[i + 1] == null) {
                missing.add((String) nameThenValue[i]);
            }
        }
        if (!missing.isEmpty()) {
            throw MoescopeException.usage(String.join(" and ", missing) + (missing.size() == 1 ? " is" : " are")
                    + " required for a new run (--resume reads them from the run)");
        }
    }

    /**
     * On --resume: the run's value of {@code option} (read from {@code checkpoint}); a {@code given} value (null = not
     * given) that differs is a usage error naming both and the checkpoint.
     */
    public static int fromRun(Path checkpoint, String option, Integer given, int saved) {
        if (given != null && given != saved) {
            throw MoescopeException.usage("--resume: " + option + " " + given + " differs from the run's " + option
                    + " " + saved + " (" + checkpoint + "); omit it to keep the run's");
        }
        return saved;
    }
}
