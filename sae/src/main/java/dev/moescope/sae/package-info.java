/**
 * BatchTopK sparse autoencoders trained on DJL's PyTorch engine.
 *
 * <p>Where to look: {@code data} (where activations come from: {@link dev.moescope.sae.data.ActivationSource}),
 * {@code dictionary} (the reusable pieces every dictionary learner here shares: BatchTopK selection, AuxK,
 * inference threshold, normalisation, decoder-norm constraint, Adam; the crosscoder extends these), {@code train}
 * (the SAE training step and loop, checkpoints), {@code io} (safetensors and the SAELens layout), {@code eval}
 * (metrics, plots, top-activating contexts), {@code encode} (inference encoding, latents written back into a store
 * as a sparse hook), {@code bench} (step timing against the PyTorch reference).
 */
package dev.moescope.sae;
