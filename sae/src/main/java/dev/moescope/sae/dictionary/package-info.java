/**
 * Reusable building blocks of BatchTopK dictionary learning, shared by the SAE and (by extension) the crosscoder:
 * exact batch top-k selection ({@link dev.moescope.sae.dictionary.BatchTopK}) into CSR codes
 * ({@link dev.moescope.sae.dictionary.SparseCodes}), the AuxK dead-latent selection, dead-latent tracking, the EMA
 * inference threshold, scalar input normalisation, the unit-norm decoder constraint, bias initialisation
 * (geometric median), the learning-rate schedule, a checkpointable Adam, and the parallel loops the Java kernels run
 * on. Everything here works on plain {@code float[]} or {@link java.nio.FloatBuffer} views of DJL tensors so it is
 * independent of how many models or sources a dictionary reads.
 */
package dev.moescope.sae.dictionary;
