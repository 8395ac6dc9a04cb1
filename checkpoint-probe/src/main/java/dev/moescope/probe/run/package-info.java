/**
 * Running ONNX models with ONNX Runtime from Java: {@link dev.moescope.probe.run.OrtRunner} opens a session by
 * path on the chosen {@link dev.moescope.probe.run.Device}, fills the inputs a decoder export declares
 * ({@link dev.moescope.probe.run.ModelInputs}) from a padded {@link dev.moescope.probe.run.TokenBatch}, and copies
 * requested outputs (fp32, fp16, bf16, integers) into {@link dev.moescope.probe.run.HostTensor}s, closing every
 * native tensor and result on the way.
 */
package dev.moescope.probe.run;
