/**
 * Where crosscoder training rows come from: {@link dev.moescope.crosscoder.data.PairedSource}, the seam (the same
 * tokens' activations from every source, batch by batch), with a store adapter over the activation store's paired
 * reader and a synthetic source with known shared and source-specific dictionaries.
 */
package dev.moescope.crosscoder.data;
