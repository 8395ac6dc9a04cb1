/**
 * Training a BatchTopK SAE: {@link dev.moescope.sae.train.SaeConfig} (every option, validated),
 * {@link dev.moescope.sae.train.SaeModel} (parameters in a {@link dev.moescope.core.djl.ScopedTrainer}),
 * two interchangeable gradient kernels — {@link dev.moescope.sae.train.SparseStep} (fast: DJL encoder matmul, exact
 * histogram selection, sparse decoder and sparse encoder backward in Java) and
 * {@link dev.moescope.sae.train.DenseReferenceStep} (the plain dense DJL-autograd formulation the fast one is tested
 * against) — and {@link dev.moescope.sae.train.SaeTrainer}, the loop with checkpoints and exact resume.
 */
package dev.moescope.sae.train;
