/**
 * BatchTopK crosscoders: one sparse dictionary read from and written to several models' activations on the same
 * tokens, for MoE-vs-dense model diffing. Built on the {@code sae} module's dictionary machinery
 * ({@link dev.moescope.sae.dictionary}); see {@code train} (the step and the loop), {@code data} (paired sources)
 * and {@code diff} (model diffing from a trained run: relative decoder norms, classes, densities, FVE, routing
 * context and the report).
 */
package dev.moescope.crosscoder;
