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
        State withCounts = new State(state.step(), state.theta(), state.scale(), state.width(), state.latents(),
                state.config(), state.source(), adamCounts(adam));
        writeTensors(file, state.width(), state.latents(), parameters, adam, deadSince,
                Map.of("moescope.checkpoint", Json.gson().toJson(withCounts)));
    }

    public static Loaded read(Path file) {
        Safetensors.Contents c = Safetensors.read(file);
        State s = state(file, c.metadata());
        Tensors t = readTensors(file, c, s.adamCounts());
        return new Loaded(s, t.parameters(), t.adam(), t.deadSince());
    }

    /** The scalar state alone (what --resume reads the run's options from), without loading the tensors. */
    public static State readState(Path file) {
        return state(file, Safetensors.readMetadata(file));
    }

    private static State state(Path file, Map<String, String> metadata) {
        String json = metadata.get("moescope.checkpoint");
        if (json == null) {
            throw MoescopeException.badInput(file, "not a moescope SAE checkpoint (no moescope.checkpoint metadata)");
        }
        try {
            return Json.gson().fromJson(json, State.class);
        } catch (RuntimeException e) {
            throw MoescopeException.badInput(file, "malformed checkpoint metadata: " + e.getMessage(), e);
        }
    }

    /** The tensor part of a checkpoint, shared by every dictionary trainer (SAE, crosscoder). */
    public record Tensors(Map<String, float[]> parameters, Map<String, ResumableAdam.State> adam, long[] deadSince) {
    }

    /** Adam's update count per parameter (goes in the trainer's own metadata record). */
    public static Map<String, Long> adamCounts(Map<String, ResumableAdam.State> adam) {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String p : PARAMS) {
            ResumableAdam.State s = adam.get(p);
            if (s != null) {
                counts.put(p, s.count());
            }
        }
        return counts;
    }

    /**
     * Writes the four {@link SaeModel} parameters ({@code latents x width} layout), Adam's moments and the
     * dead-latent counters, with the caller's {@code metadata} (its scalar state as JSON), atomically.
     */
    public static void writeTensors(Path file, int width, int latents, Map<String, float[]> parameters,
                                    Map<String, ResumableAdam.State> adam, long[] deadSince,
                                    Map<String, String> metadata) {
        int d = width;
        int f = latents;
        Map<String, long[]> shapes = Map.of(SaeModel.ENCODER, new long[]{f, d}, SaeModel.ENCODER_BIAS, new long[]{f},
                SaeModel.DECODER, new long[]{f, d}, SaeModel.DECODER_BIAS, new long[]{d});
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        for (String p : PARAMS) {
            t.put(p, Safetensors.Tensor.f32(parameters.get(p), shapes.get(p)));
            ResumableAdam.State s = adam.get(p);
            if (s != null) {
                t.put("adam." + p + ".mean", Safetensors.Tensor.f32(s.mean(), shapes.get(p)));
                t.put("adam." + p + ".variance", Safetensors.Tensor.f32(s.variance(), shapes.get(p)));
            }
        }
        t.put("dead_since", Safetensors.Tensor.i64(deadSince, f));
        Safetensors.write(file, t, metadata);
    }

    /** Reads the tensors written by {@link #writeTensors}; {@code adamCounts} comes from the caller's metadata. */
    public static Tensors readTensors(Path file, Safetensors.Contents c, Map<String, Long> adamCounts) {
        Map<String, float[]> params = new LinkedHashMap<>();
        Map<String, ResumableAdam.State> adam = new LinkedHashMap<>();
        for (String p : PARAMS) {
            params.put(p, c.floats(file, p));
            if (adamCounts != null && adamCounts.containsKey(p)) {
                adam.put(p, new ResumableAdam.State(c.floats(file, "adam." + p + ".mean"),
                        c.floats(file, "adam." + p + ".variance"), adamCounts.get(p)));
            }
        }
        return new Tensors(params, adam, c.longs(file, "dead_since"));
    }
}
