package dev.moescope.core;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * The {@code --seed} convention: every command takes one seed (default {@link #DEFAULT_SEED}) and derives an
 * independent stream for each random choice from it by name, so adding a new random choice never shifts the
 * numbers drawn by an existing one, and every result can be replayed from its provenance.
 */
public final class Seeds {

    /** The seed used when the user gives none; recorded in provenance like any other. */
    public static final long DEFAULT_SEED = 0L;

    private Seeds() {
    }

    /** A seed for the random choice called {@code purpose}, derived from the run's seed. */
    public static long derive(long seed, String purpose) {
        long h = 0xcbf29ce484222325L; // FNV-1a over the purpose name
        for (byte b : purpose.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return new SplittableRandom(seed ^ mix(h)).nextLong();
    }

    /** A random stream for the choice called {@code purpose}. */
    public static SplittableRandom random(long seed, String purpose) {
        return new SplittableRandom(derive(seed, purpose));
    }

    private static long mix(long z) { // SplitMix64 finaliser
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
