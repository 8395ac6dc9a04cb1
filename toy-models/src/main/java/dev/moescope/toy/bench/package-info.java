/**
 * Benchmark workloads shared by {@code moescope bench toy} and the PyTorch reference in {@code bench/toy/}: the
 * same models, data and optimizer, defined once here, with an analytic FLOP count and a machine-limit probe for
 * the roofline estimate.
 */
package dev.moescope.toy.bench;
