package dev.moescope.store;

import com.google.gson.annotations.SerializedName;

/**
 * How a hook's rows are stored. Recorded activations are {@link #DENSE}: {@code width} values per token. Sparse
 * codes (SAE or crosscoder latents written back by {@code sae encode}) are {@link #SPARSE}: per token the indices
 * of the active latents (in {@code [0, width)}) and their values, as two variable-length list columns.
 */
public enum HookKind {
    @SerializedName("dense") DENSE,
    @SerializedName("sparse") SPARSE
}
