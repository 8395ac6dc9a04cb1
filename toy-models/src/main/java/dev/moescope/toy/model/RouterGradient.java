package dev.moescope.toy.model;

import dev.moescope.core.error.MoescopeException;

import java.util.Locale;

/**
 * What the reconstruction loss sends to a top-1 router. With k = 1 the renormalised gate weight is p/p = 1, so the
 * exact gradient is zero. PyTorch's autograd of the authors' {@code where(mask, p / Σ mask·p, 0)} computes it as
 * {@code a/p − a·(1/p)} in float32, which is zero only when 1/p is exact (p a power of two, e.g. a zero router with
 * E = 2 or 4); otherwise it is an ulp-sized residue that AdamW normalises into steps of up to the learning rate. A
 * zero router with E = 3 then drifts off zero within a few thousand steps and, since routing is an argmax, its
 * regions change completely (measured with torch 1.13 in {@code bench/toy/reference.py}).
 */
public enum RouterGradient {
    /** The exact gradient: zero for top-1 (the default; the router then only shrinks under weight decay). */
    EXACT,
    /** PyTorch's float32 round-off residue {@code a/p − a·(1/p)} for top-1, as the authors' code trains. */
    PYTORCH_FLOAT32;

    /** Parses {@code exact} or {@code pytorch-float32}; anything else is a usage error. */
    public static RouterGradient parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "exact" -> EXACT;
            case "pytorch-float32", "pytorch" -> PYTORCH_FLOAT32;
            default -> throw MoescopeException.usage("unknown router gradient '" + text
                    + "' (expected exact or pytorch-float32)");
        };
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
