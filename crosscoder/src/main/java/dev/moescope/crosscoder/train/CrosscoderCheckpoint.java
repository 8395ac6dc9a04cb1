package dev.moescope.crosscoder.train;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.io.Safetensors;
import dev.moescope.core.json.Json;
import dev.moescope.sae.dictionary.ResumableAdam;
import dev.moescope.sae.train.Checkpoint;

import java.nio.file.Path;
import java.util.Map;

/**
 * Everything needed to continue a crosscoder run bit for bit, in one safetensors file
 * ({@code RUN/checkpoint.safetensors}): sae's {@link Checkpoint} tensors (the concatenated-rows parameters, Adam's
 * moments, the dead-latent counters) and, in the metadata, this record: step, θ, the per-source input scales, the
 * widths, the config and the source description. Written atomically, so an interrupted write leaves the previous
 * checkpoint intact.
 */
public final class CrosscoderCheckpoint {

    public static final String FILE = "checkpoint.safetensors";
    static final String KEY = "moescope.crosscoder_checkpoint";

    /** The scalar part of a checkpoint. */
    public record State(long step, double theta, double[] inputScales, int[] widths, int latents,
                        CrosscoderConfig config, Map<String, String> source, Map<String, Long> adamCounts) {
    }

    /** A checkpoint read back. */
    public record Loaded(State state, Checkpoint.Tensors tensors) {
    }

    private CrosscoderCheckpoint() {
    }

    static void write(Path file, State state, Map<String, float[]> parameters, Map<String, ResumableAdam.State> adam,
                      long[] deadSince) {
        int width = java.util.Arrays.stream(state.widths()).sum();
        State withCounts = new State(state.step(), state.theta(), state.inputScales(), state.widths(),
                state.latents(), state.config(), state.source(), Checkpoint.adamCounts(adam));
        Checkpoint.writeTensors(file, width, state.latents(), parameters, adam, deadSince,
                Map.of(KEY, Json.gson().toJson(withCounts)));
    }

    /** Reads a checkpoint; anything else (an SAE checkpoint, a weights file) is bad input naming the file. */
    public static Loaded read(Path file) {
        Safetensors.Contents c = Safetensors.read(file);
        State s = state(file, c.metadata());
        return new Loaded(s, Checkpoint.readTensors(file, c, s.adamCounts()));
    }

    /** The scalar state alone (what --resume reads the run's options from), without loading the tensors. */
    public static State readState(Path file) {
        return state(file, Safetensors.readMetadata(file));
    }

    private static State state(Path file, Map<String, String> metadata) {
        String json = metadata.get(KEY);
        if (json == null) {
            throw MoescopeException.badInput(file, "not a moescope crosscoder checkpoint (no " + KEY + " metadata)");
        }
        try {
            return Json.gson().fromJson(json, State.class);
        } catch (RuntimeException e) {
            throw MoescopeException.badInput(file, "malformed checkpoint metadata: " + e.getMessage(), e);
        }
    }
}
