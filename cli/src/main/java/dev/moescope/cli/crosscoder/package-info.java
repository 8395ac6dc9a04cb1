/** {@code moescope crosscoder}: BatchTopK crosscoders: diff how an MoE and a dense model organise features. */
package dev.moescope.cli.crosscoder;
