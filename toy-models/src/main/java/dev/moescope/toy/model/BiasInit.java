package dev.moescope.toy.model;

import dev.moescope.core.error.MoescopeException;

import java.util.Locale;

/**
 * How the output bias b starts: zeros as in Anthropic's notebook (and the MoE authors' code before 10 Aug 2025),
 * Xavier normal as in the MoE paper's released code. Xavier biases can start a feature's ReLU dead: a draw of
 * b_i well below −‖W_i‖² keeps output i at zero, so it gets no gradient and that expert never represents it.
 */
public enum BiasInit {
    ZERO,
    XAVIER;

    /** Parses {@code zero} or {@code xavier}; anything else is a usage error. */
    public static BiasInit parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "zero", "zeros" -> ZERO;
            case "xavier" -> XAVIER;
            default -> throw MoescopeException.usage("unknown bias init '" + text + "' (expected xavier or zero)");
        };
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
