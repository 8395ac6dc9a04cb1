package dev.moescope.core.error;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one rule for an output directory: a command never overwrites a previous run in its {@code --out}. A
 * directory that holds one of a run's files is refused with a usage error (exit 2: the user chose the wrong
 * {@code --out}), naming the directory and saying what to do instead. An absent or empty directory is fine.
 */
public final class PreviousRun {

    private PreviousRun() {
    }

    /**
     * Refuses {@code dir} when it holds any of {@code markers} (file names a finished or started run leaves).
     *
     * @param what      what the run is, for the message ("training run", "toy run", "store")
     * @param resumable whether the command has {@code --resume} (then the message suggests it)
     */
    public static void refuse(Path dir, String what, boolean resumable, String... markers) {
        for (String m : markers) {
            if (Files.exists(dir.resolve(m))) {
                throw holds(dir, what, resumable);
            }
        }
    }

    /** The error for {@code dir} holding a previous run. */
    public static MoescopeException holds(Path dir, String what, boolean resumable) {
        return MoescopeException.usage(dir + ": already holds a " + what + " (a previous run); "
                + (resumable ? "pass --resume to continue it or choose another --out" : "choose another --out"));
    }
}
