package dev.moescope.toy.model;

import dev.moescope.core.error.MoescopeException;

import java.util.Locale;

/**
 * How the router's weight matrix (E × n, no bias) starts. With top-1 routing the router receives no gradient from
 * the reconstruction loss, so its initial value largely decides which expert sees which input.
 */
public enum RouterInit {
    /** All zeros: every score ties and the lowest expert index wins everywhere. */
    ZERO,
    /** Xavier normal, std √(2/(n+E)) (PyTorch's {@code xavier_normal_} on an E × n matrix). */
    XAVIER,
    /** Ones on the diagonal (expert e ← feature e for e &lt; min(E, n)); PyTorch's {@code fill_diagonal_(1)}. */
    DIAGONAL,
    /** Expert e gets ones on the contiguous block of features e·⌊n/E⌋ … (e+1)·⌊n/E⌋−1. */
    ORDERED_K_HOT,
    /** A seeded random permutation of the features dealt round-robin to the experts: disjoint groups of ones. */
    RANDOM_K_HOT;

    /** Parses a CLI spelling such as {@code xavier}, {@code random-k-hot}; unknown names are usage errors. */
    public static RouterInit parse(String text) {
        String key = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (RouterInit r : values()) {
            if (r.name().equals(key) || r.name().replace("_", "").equals(key.replace("_", ""))) {
                return r;
            }
        }
        throw MoescopeException.usage("unknown router init '" + text
                + "' (expected zero, xavier, diagonal, ordered-k-hot or random-k-hot)");
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
