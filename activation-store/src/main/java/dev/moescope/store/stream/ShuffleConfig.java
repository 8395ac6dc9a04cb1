package dev.moescope.store.stream;

import dev.moescope.core.error.Require;

/**
 * How to stream a hook for training or evaluation.
 *
 * @param batchRows          rows per batch handed out
 * @param bufferRows         rows held in the shuffle buffer (memory: {@code bufferRows * width * 4} bytes per
 *                           source); at least {@code batchRows}. Larger mixes better across shards
 * @param seed               the run's seed: chunk order and buffer draws derive from it and the epoch
 * @param epoch              pass number, so each epoch is shuffled differently and reproducibly
 * @param split              which documents to read
 * @param validationFraction share of documents held out (the split depends only on seed and this)
 * @param shuffle            false reads rows in store order (evaluation)
 * @param dropLast           drop a final batch shorter than {@code batchRows}
 */
public record ShuffleConfig(int batchRows, int bufferRows, long seed, int epoch, Split split,
                            double validationFraction, boolean shuffle, boolean dropLast) {

    public ShuffleConfig {
        Require.positive("batch rows", batchRows);
        Require.that(bufferRows >= batchRows, "buffer rows", "at least the batch rows (" + batchRows + ")", bufferRows);
        Require.nonNegative("epoch", epoch);
        Require.notNull("split", split);
        Require.inHalfOpen("validation fraction", validationFraction, 0.0, 1.0);
    }

    /** Training defaults: shuffled, train split with 10% of documents held out, buffer of 16 batches, full batches. */
    public static ShuffleConfig training(int batchRows, long seed) {
        return new ShuffleConfig(batchRows, batchRows * 16, seed, 0, Split.TRAIN, 0.1, true, true);
    }

    /** The held-out documents of {@link #training}, in store order, last partial batch kept. */
    public static ShuffleConfig validation(int batchRows, long seed) {
        return new ShuffleConfig(batchRows, batchRows, seed, 0, Split.VALIDATION, 0.1, false, false);
    }

    public ShuffleConfig withEpoch(int e) {
        return new ShuffleConfig(batchRows, bufferRows, seed, e, split, validationFraction, shuffle, dropLast);
    }

    public ShuffleConfig withSplit(Split s) {
        return new ShuffleConfig(batchRows, bufferRows, seed, epoch, s, validationFraction, shuffle, dropLast);
    }

    public ShuffleConfig withValidationFraction(double f) {
        return new ShuffleConfig(batchRows, bufferRows, seed, epoch, split, f, shuffle, dropLast);
    }

    public ShuffleConfig withBufferRows(int rows) {
        return new ShuffleConfig(batchRows, rows, seed, epoch, split, validationFraction, shuffle, dropLast);
    }

    public ShuffleConfig withShuffle(boolean on) {
        return new ShuffleConfig(batchRows, bufferRows, seed, epoch, split, validationFraction, on, dropLast);
    }

    public ShuffleConfig withDropLast(boolean on) {
        return new ShuffleConfig(batchRows, bufferRows, seed, epoch, split, validationFraction, shuffle, on);
    }

    /** The document split this config reads from. */
    public DocumentSplit documentSplit() {
        return new DocumentSplit(seed, validationFraction);
    }
}
