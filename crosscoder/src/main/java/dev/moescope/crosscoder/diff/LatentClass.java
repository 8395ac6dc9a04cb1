package dev.moescope.crosscoder.diff;

/** What a crosscoder latent is, from its decoder norms in sources A (first) and B (second). */
public enum LatentClass {
    /** One of the designated shared latents (tied decoder; r = 0.5 by construction). */
    SHARED_DESIGNATED,
    /** Emergent shared: comparable decoder norms in both sources. */
    SHARED,
    /** Specific to source A (B's decoder norm small). */
    A_SPECIFIC,
    /** Specific to source B (A's decoder norm small). */
    B_SPECIFIC,
    /** Between the bands, or dead (no decoder norm in either source). */
    OTHER
}
