/**
 * Files: {@link dev.moescope.core.io.Safetensors} (the safetensors format, written streaming and atomically) and
 * {@link dev.moescope.sae.io.SaeLensExport} (the {@code sae_weights.safetensors} + {@code cfg.json} pair SAELens
 * loads, with input normalisation folded into the weights).
 */
package dev.moescope.sae.io;
