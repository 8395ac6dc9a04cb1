package dev.moescope.store;

import dev.moescope.core.error.Require;

import java.util.List;

/**
 * One activation hook of a store: its name (see {@link HookName}), width, element type and kind.
 *
 * @param name  e.g. {@code blocks.3.resid_post}
 * @param width values per token (d_model, number of experts, ...); for a sparse hook the number of latents
 * @param dtype stored element type (sparse hooks store float32 values)
 * @param kind  dense (width values per row) or sparse (active indices and values per row); absent in a manifest
 *              means dense
 */
public record HookSpec(String name, int width, Dtype dtype, HookKind kind) {

    public HookSpec {
        HookName.validate(name);
        Require.positive("width of hook " + name, width);
        Require.notNull("dtype of hook " + name, dtype);
        kind = kind == null ? HookKind.DENSE : kind;
        Require.that(kind == HookKind.DENSE || dtype == Dtype.FLOAT32, "dtype of sparse hook " + name, "float32", dtype);
    }

    /** A dense hook. */
    public HookSpec(String name, int width, Dtype dtype) {
        this(name, width, dtype, HookKind.DENSE);
    }

    public static HookSpec float32(String name, int width) {
        return new HookSpec(name, width, Dtype.FLOAT32, HookKind.DENSE);
    }

    /** A sparse hook over {@code latents} latents (indices and float32 values per row). */
    public static HookSpec sparse(String name, int latents) {
        return new HookSpec(name, latents, Dtype.FLOAT32, HookKind.SPARSE);
    }

    public boolean sparse() {
        return kind == HookKind.SPARSE;
    }

    /** Name of this hook's Arrow file inside a shard. */
    public String fileName() {
        return name + ".arrow";
    }

    /** The hook called {@code name} in {@code hooks}, or null. */
    public static HookSpec find(List<HookSpec> hooks, String name) {
        for (HookSpec h : hooks) {
            if (h.name().equals(name)) {
                return h;
            }
        }
        return null;
    }
}
