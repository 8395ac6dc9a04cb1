package dev.moescope.sae.train;

import dev.moescope.sae.dictionary.DeadLatents;

/** Computes the loss and raw gradients of one BatchTopK training step (before projection and clipping). */
public interface StepKernel extends AutoCloseable {

    /**
     * @param model  current parameters
     * @param x      normalised inputs, {@code rows x width}
     * @param rows   batch size B
     * @param dead   dead-latent counters; the kernel updates them with this batch's firings before AuxK
     * @param config k, AuxK settings
     */
    Gradients compute(SaeModel model, float[] x, int rows, DeadLatents dead, SaeConfig config);

    @Override
    default void close() {
    }
}
