package dev.moescope.store;

import dev.moescope.core.error.Require;

/**
 * One activation hook of a store: its name (see {@link HookName}), width and element type.
 *
 * @param name  e.g. {@code blocks.3.resid_post}
 * @param width values per token (d_model, number of experts, ...)
 * @param dtype stored element type
 */
public record HookSpec(String name, int width, Dtype dtype) {

    public HookSpec {
        HookName.validate(name);
        Require.positive("width of hook " + name, width);
        Require.notNull("dtype of hook " + name, dtype);
    }

    public static HookSpec float32(String name, int width) {
        return new HookSpec(name, width, Dtype.FLOAT32);
    }

    /** Name of this hook's Arrow file inside a shard. */
    public String fileName() {
        return name + ".arrow";
    }
}
