/**
 * What is measured on trained toy models: feature geometry inside one expert ({@link
 * dev.moescope.toy.metrics.FeatureGeometry}: norms, interference, dimensionality, features per dimension),
 * across experts ({@link dev.moescope.toy.metrics.ExpertUsage}: routing usage, usage-weighted dimensionality, MoE
 * features per dimension), the exact phase boundary ({@link dev.moescope.toy.metrics.AnalyticPhase}) and phase
 * maps over a grid ({@link dev.moescope.toy.metrics.PhaseMap}).
 */
package dev.moescope.toy.metrics;
