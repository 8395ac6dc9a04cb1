package dev.moescope.sae.dictionary;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.moescope.core.djl.ScopedTrainer;

import java.util.Map;

/**
 * Feeds gradients computed outside autograd (by hand-written sparse kernels) through a {@link ScopedTrainer}: the
 * step's "loss" is the linear surrogate {@code Σ_p ⟨p, G_p⟩}, whose gradient with respect to each parameter is
 * exactly {@code G_p}, so the optimizer, the NDScope discipline and the parameter hooks run as for any autograd loss.
 * Used by every dictionary learner here (SAE now, crosscoder next).
 */
public final class ExternalGradients {

    private ExternalGradients() {
    }

    /** One optimizer step with {@code gradients} (parameter name → values, laid out like the parameter). */
    public static void apply(ScopedTrainer trainer, Map<String, float[]> gradients) {
        trainer.step(() -> {
            NDManager m = trainer.manager();
            NDArray s = null;
            for (Map.Entry<String, float[]> e : gradients.entrySet()) {
                NDArray term = trainer.parameter(e.getKey()).reshape(-1).dot(m.create(e.getValue()));
                s = s == null ? term : s.add(term);
            }
            return s;
        });
    }
}
