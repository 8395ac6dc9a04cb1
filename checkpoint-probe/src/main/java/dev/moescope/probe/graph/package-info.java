/**
 * ONNX graph surgery without Python: load a {@code ModelProto} by path (external data stays external), find router
 * logits and per-layer hook tensors structurally ({@link dev.moescope.probe.graph.ProbeDetector}) or from the
 * model's named hook outputs, describe them as an editable {@link dev.moescope.probe.graph.ProbeSpec}, and edit the
 * graph ({@link dev.moescope.probe.graph.GraphSurgery}): expose tensors as outputs, override every TopK's k, turn a
 * hook tensor into an input. Edited models are opened from memory, their external data resolved beside the original.
 */
package dev.moescope.probe.graph;
