/**
 * Capturing routing and hook activations from a running model: {@link dev.moescope.probe.capture.RoutingCapture}
 * prepares an edited model exposing each layer's router logits (and requested hooks), runs padded batches of
 * {@link dev.moescope.probe.corpus.Window}s, re-derives top-k ids and weights in Java with the model's gating
 * (checking them against the graph's own TopK where it has one), and hands each batch's real, scored tokens to a
 * {@link dev.moescope.probe.capture.CaptureSink}: the routing analyses ({@link dev.moescope.probe.capture.AnalysisSink})
 * or the activation store ({@link dev.moescope.probe.capture.StoreSink}: one store document per corpus document,
 * resumable after its last committed document, written on a background thread behind a bounded queue so the model
 * runs while the previous batch is written). {@link dev.moescope.probe.capture.CorpusProbe} drives it over a
 * corpus. A capture opened without gating records hooks only (a dense twin on the same tokens).
 */
package dev.moescope.probe.capture;
