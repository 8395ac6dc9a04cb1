/**
 * Gating math: re-derive the top-k expert ids and gate weights an MoE layer uses from its router logits, for every
 * scheme in the probe spec §3.7 (softmax then top-k with or without renormalisation, DeepSeek-V3 sigmoid with score
 * correction bias and group-limited selection, GPT-OSS top-k then softmax, the ONNX Runtime {@code com.microsoft.MoE}
 * op). {@link dev.moescope.probe.gating.GatingConfig} says which; {@link dev.moescope.probe.gating.Gate} computes it.
 */
package dev.moescope.probe.gating;
