/**
 * The papers' experiments, one class each, run by name through {@link dev.moescope.toy.experiments.Experiments}.
 * Each writes {@code summary.json} (key numbers under stable names, plus provenance), the trained weights as
 * safetensors (gates included) and PNG figures into its output directory. {@code quick} runs a reduced version
 * in well under a minute; the full version follows the paper's settings.
 */
package dev.moescope.toy.experiments;
