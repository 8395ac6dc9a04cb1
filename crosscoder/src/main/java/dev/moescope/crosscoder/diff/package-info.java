/**
 * Model diffing from a trained crosscoder ({@code moescope crosscoder diff}). {@link dev.moescope.crosscoder.diff.CrosscoderRun}
 * opens a training run (weights in {@link dev.moescope.crosscoder.diff.CrosscoderWeights}, options, the stores it
 * was trained on); {@link dev.moescope.crosscoder.diff.CrosscoderEncoder} encodes paired rows with the training's
 * inference rule; {@link dev.moescope.crosscoder.diff.ModelDiff} streams the paired stores once and gathers per-latent
 * relative decoder norms ({@link dev.moescope.crosscoder.diff.RelativeNorms}), decoder cosines, classes
 * ({@link dev.moescope.crosscoder.diff.LatentClass}), densities, top contexts, FVE
 * ({@link dev.moescope.crosscoder.diff.Fve}) and the MoE's routing context
 * ({@link dev.moescope.crosscoder.diff.ExpertContext}); {@link dev.moescope.crosscoder.diff.ClassStats} aggregates per
 * class, {@link dev.moescope.crosscoder.diff.Claims} checks the paper's claims and
 * {@link dev.moescope.crosscoder.diff.DiffReport} writes summary.json, the CSVs, the plots and report.md.
 */
package dev.moescope.crosscoder.diff;
