/**
 * Tests of the committed fixture models and tokenizer and of the Python export tooling in
 * {@code checkpoint-probe/export}: ONNX Runtime Java and DJL's tokenizer against references written by PyTorch.
 */
package dev.moescope.probe.export;
