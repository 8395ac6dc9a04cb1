/** {@code moescope probe}: Probe pretrained MoE checkpoints exported to ONNX. */
package dev.moescope.cli.probe;
