/** {@code moescope toy}: Toy models of superposition, dense vs MoE (Elhage et al. 2022; Chaudhari et al. 2025). */
package dev.moescope.cli.toy;
