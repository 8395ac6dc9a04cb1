package dev.moescope.sae.dictionary;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.optimizer.Optimizer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam (PyTorch's update rule: {@code w -= lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε)}) whose moments and step counts
 * can be read out and restored, so a checkpointed run resumes bit for bit; DJL's own Adam keeps its state private.
 * The learning rate follows a {@link LearningRateSchedule}. Moments live in the weight's manager (created outside
 * any scope, see {@link dev.moescope.core.djl.ScopedTrainer}); temporaries of the update live in a scope of their own.
 */
public final class ResumableAdam extends Optimizer {

    private final LearningRateSchedule schedule;
    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private final Map<String, NDArray> means = new LinkedHashMap<>();
    private final Map<String, NDArray> variances = new LinkedHashMap<>();
    private final Map<String, Long> counts = new LinkedHashMap<>();
    private final Map<String, State> pending = new LinkedHashMap<>();

    /** Moments and update count of one parameter, as plain arrays. */
    public record State(float[] mean, float[] variance, long count) {
    }

    public ResumableAdam(LearningRateSchedule schedule, float beta1, float beta2, float epsilon) {
        super(new Builder());
        this.schedule = schedule;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
    }

    /** The learning rate the next update of {@code parameterId} will use. */
    public double currentLearningRate(String parameterId) {
        return schedule.at(counts.getOrDefault(parameterId, 0L) + 1);
    }

    @Override
    public void update(String parameterId, NDArray weight, NDArray grad) {
        long t = counts.getOrDefault(parameterId, 0L) + 1;
        counts.put(parameterId, t);
        NDArray m = means.get(parameterId);
        NDArray v = variances.get(parameterId);
        if (m == null) {
            State restored = pending.remove(parameterId);
            Shape shape = weight.getShape();
            if (restored != null) {
                m = weight.getManager().create(restored.mean(), shape);
                v = weight.getManager().create(restored.variance(), shape);
            } else {
                m = weight.zerosLike();
                v = weight.zerosLike();
            }
            means.put(parameterId, m);
            variances.put(parameterId, v);
        }
        double lr = schedule.at(t);
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2 = 1 - Math.pow(beta2, t);
        try (NDScope scope = new NDScope()) {
            m.muli(beta1).addi(grad.mul(1 - beta1));
            v.muli(beta2).addi(grad.square().muli(1 - beta2));
            NDArray denom = v.sqrt().divi((float) Math.sqrt(bc2)).addi(epsilon);
            weight.subi(m.div(denom).muli((float) (lr / bc1)));
        }
    }

    /** Every parameter's state, for a checkpoint. */
    public Map<String, State> state() {
        Map<String, State> out = new LinkedHashMap<>(pending);
        for (Map.Entry<String, NDArray> e : means.entrySet()) {
            out.put(e.getKey(), new State(e.getValue().toFloatArray(), variances.get(e.getKey()).toFloatArray(),
                    counts.get(e.getKey())));
        }
        return out;
    }

    /** Restores state saved by {@link #state()}; must be called before the first update. */
    public void restore(Map<String, State> state) {
        if (!means.isEmpty()) {
            throw new IllegalStateException("restore Adam state before the first update");
        }
        pending.putAll(state);
        state.forEach((k, s) -> counts.put(k, s.count()));
    }

    private static final class Builder extends OptimizerBuilder<Builder> {
        @Override
        protected Builder self() {
            return this;
        }
    }
}
