/** Timing of the SAE training step, for {@code moescope bench sae}. */
package dev.moescope.sae.bench;
