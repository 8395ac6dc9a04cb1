/**
 * Training a BatchTopK crosscoder: {@link dev.moescope.crosscoder.train.CrosscoderConfig} (every option, validated),
 * {@link dev.moescope.crosscoder.train.Crosscoder} (per-source encoders and decoders, one shared code, the training
 * step) and {@link dev.moescope.crosscoder.train.CrosscoderTraining} (the loop, normalisation and output files).
 */
package dev.moescope.crosscoder.train;
