package dev.moescope.sae.dictionary;

/**
 * The global inference threshold θ of BatchTopK (Bussmann et al. 2024): after {@code startStep}, an EMA of the
 * smallest positive selected activation of each training batch, {@code θ ← β·θ + (1−β)·min}, initialised to the
 * first observed minimum (dictionary_learning's rule, β = 0.999, start step 1000). At inference a latent fires when
 * {@code pre > θ} (JumpReLU style), so encoding needs no batch.
 */
public final class InferenceThreshold {

    private final double beta;
    private final long startStep;
    private double theta = -1;

    public InferenceThreshold(double beta, long startStep) {
        this.beta = beta;
        this.startStep = startStep;
    }

    /** Feeds the batch minimum observed at training step {@code step} (1-based). */
    public void observe(long step, float minPositive) {
        if (step <= startStep) {
            return;
        }
        if (theta < 0) {
            theta = minPositive;
        } else {
            theta = beta * theta + (1 - beta) * minPositive;
        }
    }

    /** θ, or -1 while not yet estimated. */
    public double value() {
        return theta;
    }

    public boolean isSet() {
        return theta >= 0;
    }

    public void restore(double value) {
        theta = value;
    }
}
