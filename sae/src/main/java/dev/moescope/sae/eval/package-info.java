/**
 * Evaluation of a trained SAE on held-out activations with the metrics researchers publish (definitions in
 * {@code shared/specs/dictionaries.md} §3): FVE pooled (SAELens form and the centred dictionary_learning form) and
 * per token, MSE, L0 under batch top-k and under the inference threshold, dead and dense fractions, the log10
 * activation-density histogram, cos(x, x̂), ‖x̂‖/‖x‖; on synthetic data, recovery of the true dictionary; on a
 * store, the top-activating contexts of every latent ({@link dev.moescope.sae.eval.TopActivations} keeps the top
 * rows in bounded memory, {@link dev.moescope.sae.eval.StoreContexts} renders them from the store's tokens); on a
 * store recorded by {@code probe run}, CE loss recovered ({@link dev.moescope.sae.eval.CeRecovery}: the held-out
 * documents re-run through the ONNX model with the hook spliced, via the probe library of checkpoint-probe).
 */
package dev.moescope.sae.eval;
