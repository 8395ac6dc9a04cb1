/**
 * Conventions every moescope module shares: user-facing errors and exit codes ({@link dev.moescope.core.error}),
 * provenance attached to every output ({@link dev.moescope.core.provenance}), seeded randomness
 * ({@link dev.moescope.core.Seeds}), JSON ({@link dev.moescope.core.json}), progress reporting
 * ({@link dev.moescope.core.progress}) and the scoped DJL training step ({@link dev.moescope.core.djl}).
 */
package dev.moescope.core;
