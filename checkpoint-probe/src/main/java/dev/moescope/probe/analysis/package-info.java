/**
 * Routing analyses as streaming accumulators: feed one {@link dev.moescope.probe.analysis.TokenRouting} at a time
 * (a token's top-k at one layer) to {@link dev.moescope.probe.analysis.RoutingAnalysis}; memory grows with
 * layers × experts² and the distinct token ids seen, never with the number of tokens. Definitions follow the probe
 * spec §1.3/§2: expert load and its balance (normalised entropy, CV, max/mean, MaxVio, experts covering 50 %),
 * MoE Lens's largest expert share, OLMoE domain and vocabulary specialisation and co-activation (all-pairs and
 * OLMoE's adjacent-rank variant), Mixtral's consecutive-token routing, and agreement between two runs
 * ({@link dev.moescope.probe.analysis.RoutingAgreement}). {@link dev.moescope.probe.analysis.StoreRouting} streams a
 * store's routing into them; {@link dev.moescope.probe.analysis.ReportWriter} writes summary.json, CSVs and PNG
 * charts.
 */
package dev.moescope.probe.analysis;
