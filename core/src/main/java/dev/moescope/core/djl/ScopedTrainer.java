package dev.moescope.core.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Trainable parameters in one long-lived {@link NDManager} and a training step that does not leak.
 *
 * <p>{@link #step} runs the loss and its backward pass inside an {@link NDScope} (every temporary array is
 * closed when the step ends), then applies the optimizer outside that scope, because optimizers create their
 * state (Adam's moments) lazily and a scope would free it. Native memory therefore stays flat over any number of
 * steps. A {@link GradientTransform} may rewrite each gradient before the update (clipping, projecting out the
 * component along a unit-norm constraint), and a {@link ParameterHook} may fix parameters after it
 * (renormalising decoder rows).
 */
public final class ScopedTrainer implements AutoCloseable {

    /** Rewrites a parameter's gradient before the optimizer sees it; runs inside its own scope. */
    @FunctionalInterface
    public interface GradientTransform {
        NDArray apply(String name, NDArray parameter, NDArray gradient);
    }

    /** Adjusts parameters in place after each update (e.g. renormalising rows); runs inside its own scope. */
    @FunctionalInterface
    public interface ParameterHook {
        void afterUpdate(Map<String, NDArray> parameters);
    }

    private final Engine engine;
    private final NDManager manager;
    private final Optimizer optimizer;
    private final Map<String, NDArray> parameters = new LinkedHashMap<>();
    private GradientTransform gradientTransform = (name, p, g) -> g;
    private ParameterHook parameterHook = p -> { };
    private long steps;

    public ScopedTrainer(Engine engine, Optimizer optimizer) {
        this.engine = engine;
        this.manager = engine.newBaseManager();
        this.optimizer = optimizer;
    }

    /** The manager parameters live in; create initial values here. */
    public NDManager manager() {
        return manager;
    }

    /** Registers {@code initial} (moved into this trainer's manager) as a trainable parameter. */
    public NDArray addParameter(String name, NDArray initial) {
        initial.attach(manager);
        initial.setRequiresGradient(true);
        parameters.put(name, initial);
        return initial;
    }

    public NDArray parameter(String name) {
        return parameters.get(name);
    }

    public Map<String, NDArray> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    public ScopedTrainer gradientTransform(GradientTransform transform) {
        this.gradientTransform = transform;
        return this;
    }

    public ScopedTrainer parameterHook(ParameterHook hook) {
        this.parameterHook = hook;
        return this;
    }

    public long steps() {
        return steps;
    }

    /**
     * One optimisation step. {@code loss} builds the scalar loss from the parameters; every array it creates is
     * closed when the step ends. Returns the loss value.
     */
    public float step(Supplier<NDArray> loss) {
        float value;
        try (NDScope scope = new NDScope(); GradientCollector collector = engine.newGradientCollector()) {
            NDArray l = loss.get();
            collector.backward(l);
            value = l.getFloat();
        }
        applyGradients();
        steps++;
        return value;
    }

    private void applyGradients() {
        for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
            NDArray p = e.getValue();
            NDArray raw = p.getGradient(); // a new handle on each call: closed below
            NDArray g;
            try (NDScope scope = new NDScope()) {
                g = gradientTransform.apply(e.getKey(), p, raw);
                NDScope.unregister(g);
            }
            // outside any scope: the optimizer's lazily created state must outlive this step
            optimizer.update(e.getKey(), p, g);
            if (g != raw) {
                g.close();
            }
            // PyTorch accumulates into .grad across backward passes and nothing else clears it: zero it in place
            // (the handle shares the parameter's gradient storage) so the next step sees only its own gradient.
            raw.subi(raw);
            raw.close();
        }
        try (NDScope scope = new NDScope()) {
            parameterHook.afterUpdate(parameters());
        }
    }

    /** Live native arrays owned by this trainer (parameters, gradients, optimizer state); flat across steps. */
    public int liveArrays() {
        return manager.getManagedArrays().size();
    }

    @Override
    public void close() {
        manager.close();
    }
}
