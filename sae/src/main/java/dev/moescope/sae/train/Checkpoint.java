package dev.moescope.sae.train;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.Json;
import dev.moescope.sae.dictionary.ResumableAdam;
import dev.moescope.core.io.Safetensors;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything needed to continue a run bit for bit, in one safetensors file ({@code checkpoint.safetensors}):
 * the four parameters, Adam's moments, the dead-latent counters, and in the metadata the step, θ, the input scale,
 * Adam's step counts, the config and the source description. Written atomically, so an interrupted write leaves
 * the previous checkpoint intact.
 */
public final class Checkpoint {

    public static final String FILE = "checkpoint.safetensors";
    private static final String[] PARAMS = {SaeModel.ENCODER, SaeModel.ENCODER_BIAS, SaeModel.DECODER,
            SaeModel.DECODER_BIAS};

    /** The scalar part of a checkpoint. */
    public record State(long step, double theta, double scale, int width, int latents, SaeConfig config,
                        Map<String, String> source, Map<String, Long> adamCounts) {
    }

    /** A checkpoint read back. */
    public record Loaded(State state, Map<String, float[]> parameters, Map<String, ResumableAdam.State> adam,
                         long[] deadSince) {
    }

    private Checkpoint() {
    }

    public static void write(Path file, State state, Map<String, float[]> parameters,
                             Map<String, ResumableAdam.State> adam, long[] deadSince) {
        int d = state.width();
        int f = state.latents();
        Map<String, long[]> shapes = Map.of(SaeModel.ENCODER, new long[]{f, d}, SaeModel.ENCODER_BIAS, new long[]{f},
                SaeModel.DECODER, new long[]{f, d}, SaeModel.DECODER_BIAS, new long[]{d});
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String p : PARAMS) {
            t.put(p, Safetensors.Tensor.f32(parameters.get(p), shapes.get(p)));
            ResumableAdam.State s = adam.get(p);
            if (s != null) {
                t.put("adam." + p + ".mean", Safetensors.Tensor.f32(s.mean(), shapes.get(p)));
                t.put("adam." + p + ".variance", Safetensors.Tensor.f32(s.variance(), shapes.get(p)));
                counts.put(p, s.count());
            }
        }
        t.put("dead_since", Safetensors.Tensor.i64(deadSince, f));
        State withCounts = new State(state.step(), state.theta(), state.scale(), d, f, state.config(), state.source(),
                counts);
        Safetensors.write(file, t, Map.of("moescope.checkpoint", Json.gson().toJson(withCounts)));
    }

    public static Loaded read(Path file) {
        Safetensors.Contents c = Safetensors.read(file);
        String json = c.metadata().get("moescope.checkpoint");
        if (json == null) {
            throw MoescopeException.badInput(file, "not a moescope SAE checkpoint (no moescope.checkpoint metadata)");
        }
        State s;
        try {
            s = Json.gson().fromJson(json, State.class);
        } catch (RuntimeException e) {
            throw MoescopeException.badInput(file, "malformed checkpoint metadata: " + e.getMessage(), e);
        }
        Map<String, float[]> params = new LinkedHashMap<>();
        Map<String, ResumableAdam.State> adam = new LinkedHashMap<>();
        for (String p : PARAMS) {
            params.put(p, c.floats(file, p));
            if (s.adamCounts() != null && s.adamCounts().containsKey(p)) {
                adam.put(p, new ResumableAdam.State(c.floats(file, "adam." + p + ".mean"),
                        c.floats(file, "adam." + p + ".variance"), s.adamCounts().get(p)));
            }
        }
        return new Loaded(s, params, adam, c.longs(file, "dead_since"));
    }
}
