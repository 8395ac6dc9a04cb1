/**
 * The expert probe (probe spec §0.5, §1.3 (b)–(d), §1.5, §7 targets 11 and 13): single-expert approximation and
 * per-expert logit lens. The experts each token chose are recomputed in Java from the ONNX initializers that the
 * export sidecar names ({@link dev.moescope.probe.expert.ExpertSidecar}, {@link dev.moescope.probe.expert.ExpertWeights}),
 * from the MoE block input exposed by graph surgery; the recomputed Σ w_i E_i(x) is checked against the captured
 * {@code moe_out}. {@link dev.moescope.probe.expert.SingleExpert} defines the H¹ variants (raw, renormalised,
 * mixture weight, and MoE Lens's released definition) and {@link dev.moescope.probe.expert.ExpertProbe} measures
 * their cosine with the layer output per layer and domain, and their logit-lens top-1 agreement through the
 * model's own final norm and unembedding ({@link dev.moescope.probe.lens.LogitLens}).
 */
package dev.moescope.probe.expert;
