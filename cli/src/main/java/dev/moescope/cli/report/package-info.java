/**
 * The research report {@code moescope demo} writes: one self-contained {@code report.html} built from the stage
 * outputs' {@code summary.json} files and PNGs. {@link dev.moescope.cli.report.DemoReport} is the entry point;
 * one class per section ({@code ToySection}, {@code ProbeSection}, {@code SaeSection}, {@code CrosscoderSection},
 * {@code ProvenanceSection}) around {@code ReportPage}; {@code DemoClaims} checks the papers' claims against the
 * run's numbers; {@code Svg} draws the charts the stages do not already draw.
 */
package dev.moescope.cli.report;
