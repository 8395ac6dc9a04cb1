package dev.moescope.toy.train;

import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.model.ToyWeights;

/**
 * The outcome of a batched run: trained weights of every instance and its losses.
 *
 * @param architecture   shared shape
 * @param config         training settings
 * @param specs          the instances, in order
 * @param weights        trained weights (instance order as {@code specs})
 * @param lastLoss       each instance's training loss at its last step (reconstruction + LB): the authors' criterion
 * @param lastRecon      reconstruction part of {@code lastLoss}
 * @param lastBalance    load-balancing part of {@code lastLoss} (α for a dense model with LB on)
 * @param heldOutLoss    reconstruction loss on fresh held-out samples after training (no LB)
 * @param stepsRun       steps each instance ran (fewer than configured only with early stopping)
 * @param lossLog        training loss every {@code config.lossLogInterval()} steps, per instance
 * @param seconds        wall time of the training loop
 */
public record TrainResult(Architecture architecture, TrainingConfig config, InstanceSpec[] specs, ToyWeights weights,
                          double[] lastLoss, double[] lastRecon, double[] lastBalance, double[] heldOutLoss,
                          int[] stepsRun, float[][] lossLog, double seconds) {

    public int instances() {
        return specs.length;
    }

    /** Instance-steps per second over the whole run (each step is one batch). */
    public double modelStepsPerSecond() {
        long total = 0;
        for (int s : stepsRun) {
            total += s;
        }
        return total / Math.max(seconds, 1e-9);
    }
}
