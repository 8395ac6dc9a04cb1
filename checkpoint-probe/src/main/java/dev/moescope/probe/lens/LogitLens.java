package dev.moescope.probe.lens;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.probe.graph.GraphSurgery;
import dev.moescope.probe.graph.ProbeSpec;
import dev.moescope.probe.run.HostTensor;
import dev.moescope.probe.run.OrtRunner;
import dev.moescope.probe.run.TokenBatch;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * The logit lens: the model's own final norm (its learned scale and epsilon) and unembedding, applied to any
 * residual-stream vector. Built by graph surgery, not re-implemented: the last MoE layer's {@code resid_post} becomes
 * a graph input and everything only the layers needed is pruned, so what is left is exactly the model's head.
 * Feeding the last layer's own residual therefore reproduces the model's logits. The one lens implementation of
 * the probe: {@link MoeLens} and the expert probe both use it.
 */
public final class LogitLens implements AutoCloseable {

    /** The model's next-token logits output. */
    public static final String LOGITS = "logits";

    private final OrtRunner runner;
    private final String input;

    private LogitLens(OrtRunner runner, String input) {
        this.runner = runner;
        this.input = input;
    }

    /**
     * Cuts the head graph out of {@code model} ({@code cfg}'s model) and opens it from memory with {@code cfg}.
     */
    public static LogitLens open(Path model, ModelProto proto, ProbeSpec spec, OrtRunner.Config cfg) {
        if (proto.getGraph().getOutputList().stream().noneMatch(o -> o.getName().equals(LOGITS))) {
            throw MoescopeException.badInput(model, "the model has no '" + LOGITS + "' output");
        }
        ProbeSpec.Layer lastLayer = spec.layers().get(spec.layers().size() - 1);
        String last = lastLayer.hooks().get(ProbeSpec.RESID_POST);
        if (last == null) {
            throw MoescopeException.badInput(model, "layer " + lastLayer.layer() + " has no resid_post hook; name it "
                    + "in a --spec file");
        }
        String[] in = new String[1];
        ModelProto head = GraphSurgery.hookToInput(GraphSurgery.keepOutputs(proto, Set.of(LOGITS)), last, in);
        OrtRunner r = OrtRunner.openEdited(cfg, head);
        return new LogitLens(r, in[0]);
    }

    /**
     * Lens logits of {@code residual} (values laid out like the model's {@code resid_post}: {@code like}'s shape)
     * for the tokens of {@code batch}: [rows × vocab] in {@code like}'s row order.
     */
    public HostTensor logits(TokenBatch batch, HostTensor like, float[] residual) {
        if (residual.length != like.size()) {
            throw new IllegalArgumentException("residual has " + residual.length + " values, " + like + " needs "
                    + like.size());
        }
        HostTensor fed = new HostTensor(input, like.shape(), like.sourceType(), residual, null);
        return runner.run(batch, Set.of(LOGITS), Map.of(input, fed)).get(LOGITS);
    }

    /** Where the session runs ({@code cpu} or {@code cuda:N}). */
    public String deviceUsed() {
        return runner.deviceUsed();
    }

    @Override
    public void close() {
        runner.close();
    }
}
