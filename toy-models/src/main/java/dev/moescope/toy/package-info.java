/**
 * Toy models of superposition, dense (Elhage et al. 2022) and Mixture-of-Experts (Chaudhari, Nuer and
 * Thorstenson 2025).
 *
 * <p>Start at {@link dev.moescope.toy.model} (what a model is: architecture, training settings, per-instance
 * data), then {@link dev.moescope.toy.train} (the fused batched trainer), {@link dev.moescope.toy.metrics} (what
 * is measured on trained weights), and {@link dev.moescope.toy.experiments} (the papers' figures).
 */
package dev.moescope.toy;
