package dev.moescope.store.stream;

/** Which documents a stream reads. */
public enum Split {
    /** Documents not held out for validation. */
    TRAIN,
    /** The held-out documents. */
    VALIDATION,
    /** Every document. */
    ALL
}
