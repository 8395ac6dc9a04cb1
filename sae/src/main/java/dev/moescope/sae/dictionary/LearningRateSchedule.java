package dev.moescope.sae.dictionary;

import dev.moescope.core.error.Require;

/**
 * Linear warm-up over {@code warmupSteps}, then constant, then (when {@code decayStart >= 0}) linear decay to 0 at
 * {@code totalSteps}: dictionary_learning's schedule.
 *
 * @param base        the peak learning rate
 * @param warmupSteps steps of linear warm-up from 0 (0 for none)
 * @param decayStart  step at which linear decay starts, or -1 for none
 * @param totalSteps  the run's last step
 */
public record LearningRateSchedule(double base, long warmupSteps, long decayStart, long totalSteps) {

    public LearningRateSchedule {
        Require.positive("lr", base);
        Require.that(warmupSteps >= 0, "warmup", "non-negative", warmupSteps);
        Require.that(decayStart < 0 || decayStart < totalSteps, "decay-start", "below the step count " + totalSteps,
                decayStart);
    }

    /** The rate for 1-based step {@code t}. */
    public double at(long t) {
        double lr = base;
        if (warmupSteps > 0 && t <= warmupSteps) {
            lr = base * t / warmupSteps;
        }
        if (decayStart >= 0 && t > decayStart) {
            lr *= Math.max(0.0, (double) (totalSteps - t) / (totalSteps - decayStart));
        }
        return lr;
    }

    /** dictionary_learning's default for F latents: {@code 2e-4 / √(F / 2^14)}. */
    public static double defaultBase(int latents) {
        return 2e-4 / Math.sqrt(latents / 16384.0);
    }
}
