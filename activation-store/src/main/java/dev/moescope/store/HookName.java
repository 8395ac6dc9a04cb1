package dev.moescope.store;

import dev.moescope.core.error.MoescopeException;

import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one hook naming convention of the project, close to TransformerLens: {@code blocks.<layer>.<point>} for
 * points inside a block ({@code blocks.3.resid_post}, {@code blocks.3.moe_out}, {@code blocks.3.router_logits}),
 * or a bare {@code <point>} for points outside the blocks ({@code embed}, {@code final_resid}). Points are lower
 * case letters, digits and underscores.
 */
public final class HookName {

    private static final Pattern PATTERN = Pattern.compile("^(?:blocks\\.(\\d{1,4})\\.)?([a-z][a-z0-9_]*)$");

    /** Hook point of the residual stream after block {@code L}. */
    public static final String RESID_POST = "resid_post";
    /** Hook point of the MoE (or MLP) block output. */
    public static final String MOE_OUT = "moe_out";
    /** Hook point of the full router logits (width = number of experts). */
    public static final String ROUTER_LOGITS = "router_logits";

    private HookName() {
    }

    /** {@code blocks.<layer>.<point>}. */
    public static String of(int layer, String point) {
        String name = "blocks." + layer + "." + point;
        validate(name);
        return name;
    }

    /** Whether {@code name} follows the convention. */
    public static boolean isValid(String name) {
        return name != null && PATTERN.matcher(name).matches();
    }

    /** Throws a usage error unless {@code name} follows the convention. */
    public static String validate(String name) {
        if (!isValid(name)) {
            throw MoescopeException.usage("hook name must look like blocks.<layer>.<point> (e.g. blocks.3.resid_post)"
                    + " or <point>, got '" + name + "'");
        }
        return name;
    }

    /** The layer of a {@code blocks.<L>.<point>} name, empty for names outside the blocks. */
    public static OptionalInt layer(String name) {
        Matcher m = PATTERN.matcher(name);
        if (!m.matches() || m.group(1) == null) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(Integer.parseInt(m.group(1)));
    }
}
