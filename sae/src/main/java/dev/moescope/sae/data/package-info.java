/**
 * Where activations come from. {@link dev.moescope.sae.data.ActivationSource} is the seam between the trainer
 * and the data: seeded, randomly addressable training batches of one hook, plus a validation split held out by
 * document. Implementations: {@link dev.moescope.sae.data.StoreSource} (one hook of an activation store: the
 * store's document split and seeded shuffled stream, epochs replayed to an index for exact {@code --resume}),
 * {@link dev.moescope.sae.data.SyntheticSource} (known ground-truth dictionary) and
 * {@link dev.moescope.sae.data.NpySource} (a float32 {@code .npy} matrix).
 */
package dev.moescope.sae.data;
