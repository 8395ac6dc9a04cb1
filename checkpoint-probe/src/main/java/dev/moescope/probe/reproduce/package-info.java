/**
 * Reproduction targets that feed released artifacts through the project's own metric code (probe spec §7,
 * targets 1–5): MoE Lens's DeepSeek routing counts, OLMoE's OLMoE/Mixtral expert counts, MoE Lens's perplexity
 * and cosine-similarity CSVs, and the random-routing baselines. A {@link dev.moescope.probe.reproduce.ReproductionTarget}
 * runs into a {@link dev.moescope.probe.reproduce.Reproduction}: {@link dev.moescope.probe.reproduce.Check} rows
 * (paper value, ours, tolerance, status), CSV tables and figures, written as summary.json (provenance with input
 * hashes), CSVs and reproduction.md.
 *
 * <p>Counts come as {@code moescope-expert-counts/1} JSON ({@link dev.moescope.probe.reproduce.ExpertCounts}),
 * converted from the released pickles and torch files by {@code checkpoint-probe/export/moescope_export/
 * released_counts.py}; Java never unpickles. Load metrics are the ones of {@code probe.analysis}
 * ({@code RoutingAnalysis.acceptCounts}), not a second implementation.
 */
package dev.moescope.probe.reproduce;
