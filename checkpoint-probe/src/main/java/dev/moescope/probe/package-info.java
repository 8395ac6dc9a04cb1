/**
 * Probing pretrained MoE checkpoints exported to ONNX: {@code gating} re-derives top-k routing from router logits,
 * {@code graph} finds and exposes router logits and hook tensors by editing the ONNX graph, {@code run} runs models
 * with ONNX Runtime, {@code corpus} turns text into token windows, {@code capture} records routing and hooks
 * into sinks (the activation store among them), {@code lens} is MoE Lens, and {@code analysis} turns per-token routing into routing statistics and plots.
 */
package dev.moescope.probe;
