/**
 * Training a BatchTopK crosscoder: {@link dev.moescope.crosscoder.train.CrosscoderConfig} (every option, validated),
 * {@link dev.moescope.crosscoder.train.Crosscoder} (per-source encoders and decoders stored as concatenated rows,
 * one shared code, the step on sae's sparse kernel), {@link dev.moescope.crosscoder.train.DenseCrosscoderStep} (the
 * dense DJL-autograd reference the sparse step is tested against),
 * {@link dev.moescope.crosscoder.train.CrosscoderTraining} (the run: normalisation, steps, output files),
 * {@link dev.moescope.crosscoder.train.CrosscoderCheckpoint} (exact resume) and
 * {@link dev.moescope.crosscoder.train.HeldOutEvaluation} (per-source and pooled FVE on held-out tokens).
 */
package dev.moescope.crosscoder.train;
