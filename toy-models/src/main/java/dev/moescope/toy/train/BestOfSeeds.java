package dev.moescope.toy.train;

import dev.moescope.core.error.MoescopeException;

import java.util.Locale;

/** Picks, for each grid cell, the seed whose trained instance has the lowest loss under a recorded criterion. */
public final class BestOfSeeds {

    /** Which loss decides. */
    public enum Criterion {
        /** Reconstruction loss on fresh held-out samples (default: not fooled by one noisy batch). */
        HELD_OUT,
        /** The authors' choice: training loss of the last step, LB term included. */
        LAST_BATCH;

        public static Criterion parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT).replace('_', '-')) {
                case "held-out", "heldout" -> HELD_OUT;
                case "last-batch", "lastbatch" -> LAST_BATCH;
                default -> throw MoescopeException.usage("unknown selection criterion '" + s
                        + "' (expected held-out or last-batch)");
            };
        }
    }

    private BestOfSeeds() {
    }

    /**
     * Instances are laid out cell-major: cell c, seed r is instance {@code c * seeds + r}. Returns, per cell, the
     * index of the chosen instance.
     */
    public static int[] select(TrainResult result, int seeds, Criterion criterion) {
        double[] loss = criterion == Criterion.HELD_OUT ? result.heldOutLoss() : result.lastLoss();
        int cells = result.instances() / seeds;
        int[] chosen = new int[cells];
        for (int c = 0; c < cells; c++) {
            int best = c * seeds;
            for (int r = 1; r < seeds; r++) {
                int i = c * seeds + r;
                if (loss[i] < loss[best]) {
                    best = i;
                }
            }
            chosen[c] = best;
        }
        return chosen;
    }
}
