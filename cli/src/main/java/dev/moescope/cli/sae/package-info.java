/** {@code moescope sae}: BatchTopK sparse autoencoders over recorded activations. */
package dev.moescope.cli.sae;
