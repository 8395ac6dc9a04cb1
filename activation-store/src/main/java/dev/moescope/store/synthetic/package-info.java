/**
 * Deterministic synthetic token streams and activations for tests, benchmarks and tutorials: document
 * {@code i} of a given seed is always the same, so a resumed or re-read store can be checked value by value.
 */
package dev.moescope.store.synthetic;
