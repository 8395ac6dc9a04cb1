/**
 * MoE Lens done right (probe spec §1.3–1.5): a top-k sweep that runs the model with every TopK's k overridden
 * and reports per-domain perplexity and per-layer cosine similarity of the residual stream against the full-k run,
 * and a logit lens that reuses the model's own final norm (its learned scale and epsilon) and unembedding by
 * splicing each layer's residual into the graph in place of the last layer's, so the last layer reproduces the
 * model's logits exactly ({@link dev.moescope.probe.lens.LogitLens}, also used by the expert probe's per-expert lens).
 */
package dev.moescope.probe.lens;
