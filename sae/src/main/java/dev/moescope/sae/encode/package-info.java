/**
 * Encoding activations with a trained SAE at inference: {@link dev.moescope.sae.encode.ThresholdEncoder} (the
 * JumpReLU-style {@code pre > θ} rule, no batch needed) and {@link dev.moescope.sae.encode.StoreEncoding}, which
 * writes the latents of every row of a store back into it as a sparse hook (indices and values per token).
 */
package dev.moescope.sae.encode;
