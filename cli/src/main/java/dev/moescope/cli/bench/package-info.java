/** {@code moescope bench}: Benchmarks that compare moescope with its reference side by side. */
package dev.moescope.cli.bench;
