/**
 * Model diffing from a trained crosscoder: per-latent relative decoder norm, decoder cosine between sources and the
 * shared / source-specific classification with the thresholds of the spec.
 */
package dev.moescope.crosscoder.diff;
