/**
 * Timing the crosscoder training step: {@link dev.moescope.crosscoder.bench.CrosscoderStepBenchmark} runs the real
 * step on a cached synthetic two-source workload with a per-phase breakdown, for {@code moescope bench crosscoder}.
 */
package dev.moescope.crosscoder.bench;
