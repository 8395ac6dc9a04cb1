/**
 * Where activations come from. {@link dev.moescope.sae.data.ActivationSource} is the seam between the trainer
 * and the data: seeded, randomly addressable training batches of one hook, plus a validation split held out by
 * document. Implementations: {@link dev.moescope.sae.data.SyntheticSource} (known ground-truth dictionary) and
 * {@link dev.moescope.sae.data.NpySource} (a float32 {@code .npy} matrix). The activation-store adapter is to be a
 * third implementation of the same interface: map {@code trainBatch(index)} to a seeded block-shuffled read of one
 * hook's shards and {@code forEachValidation} to the documents the store holds out.
 */
package dev.moescope.sae.data;
