package dev.moescope.store.stream;

import dev.moescope.core.Seeds;
import dev.moescope.core.error.Require;

/**
 * A train/validation split by document: each document index is assigned to validation independently with
 * probability {@code validationFraction}, by a hash of the seed and the index. The assignment does not depend on
 * the store's shards or on the epoch, so a trainer and an evaluator with the same seed see the same split, and
 * two stores recorded on the same documents split identically. Tokens of one document never straddle the split.
 *
 * @param seed               the run's seed (the purpose "document split" is derived from it)
 * @param validationFraction expected share of documents held out, in [0, 1)
 */
public record DocumentSplit(long seed, double validationFraction) {

    public DocumentSplit {
        Require.inHalfOpen("validation fraction", validationFraction, 0.0, 1.0);
    }

    /** Whether document {@code docIndex} is held out for validation. */
    public boolean isValidation(long docIndex) {
        long z = Seeds.derive(seed, "document split") + docIndex * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        z = z ^ (z >>> 31);
        double u = (z >>> 11) * 0x1.0p-53;
        return u < validationFraction;
    }

    /** Whether document {@code docIndex} belongs to {@code split}. */
    public boolean accepts(Split split, long docIndex) {
        return switch (split) {
            case ALL -> true;
            case TRAIN -> !isValidation(docIndex);
            case VALIDATION -> isValidation(docIndex);
        };
    }
}
