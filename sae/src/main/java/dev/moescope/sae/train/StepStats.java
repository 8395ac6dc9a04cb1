package dev.moescope.sae.train;

/**
 * What one training step measured.
 *
 * @param step           the 1-based step just taken
 * @param loss           reconstruction + α·AuxK
 * @param reconstruction mean ‖x − x̂‖² per token, normalised units
 * @param auxk           normalised AuxK loss (before α)
 * @param l0             mean active latents per token in the batch (k exactly, with enough positive values)
 * @param deadFraction   dead latents / F
 * @param gradNorm       gradient norm before clipping
 * @param lr             learning rate used
 * @param theta          inference threshold after the step (-1 while not tracked)
 * @param rows           tokens in the batch
 */
public record StepStats(long step, double loss, double reconstruction, double auxk, double l0, double deadFraction,
                        double gradNorm, double lr, double theta, int rows) {
}
