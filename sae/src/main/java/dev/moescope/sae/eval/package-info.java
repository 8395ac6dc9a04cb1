/**
 * Evaluation of a trained SAE on held-out activations with the metrics researchers publish (definitions in
 * {@code shared/specs/dictionaries.md} §3): FVE pooled (SAELens form and the centred dictionary_learning form) and
 * per token, MSE, L0 under batch top-k and under the inference threshold, dead and dense fractions, the log10
 * activation-density histogram, cos(x, x̂), ‖x̂‖/‖x‖; and, on synthetic data, recovery of the true dictionary.
 */
package dev.moescope.sae.eval;
