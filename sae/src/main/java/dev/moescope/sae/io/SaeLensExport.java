package dev.moescope.sae.io;

import dev.moescope.core.io.Safetensors;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The trained SAE as SAELens saves a JumpReLU SAE (the form SAELens itself converts BatchTopK SAEs to):
 * {@code sae_weights.safetensors} with {@code W_enc} (d_in × d_sae), {@code b_enc} (d_sae), {@code W_dec}
 * (d_sae × d_in), {@code b_dec} (d_in) and {@code threshold} (d_sae, every entry θ), plus {@code cfg.json}.
 *
 * <p>Training ran on inputs scaled by {@code c} (E‖c·x‖² = d); the export folds {@code c} back in
 * ({@code W_enc ← c·W_enc}, {@code W_dec ← W_dec / c}, {@code b_dec ← b_dec / c}; pre-activations and θ are
 * unchanged) so the file encodes raw activations with {@code normalize_activations = "none"}:
 * {@code f = relu(pre)·[pre > θ]} with {@code pre = (x − b_dec)·W_enc + b_enc}, {@code x̂ = f·W_dec + b_dec}.
 */
public final class SaeLensExport {

    public static final String WEIGHTS = "sae_weights.safetensors";
    public static final String CONFIG = "cfg.json";

    private SaeLensExport() {
    }

    /** The exported SAE in raw activation units, SAELens layout. */
    public record RawSae(int width, int latents, float[] wEnc, float[] bEnc, float[] wDec, float[] bDec,
                         float[] threshold, JsonObject cfg) {

        /**
         * The source the SAE was trained on, as its {@code ActivationSource.describe()} recorded it in
         * {@code cfg.json} ({@code moescope.source}); empty where none was recorded.
         */
        public java.util.Map<String, String> recordedSource() {
            java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
            JsonObject own = cfg.getAsJsonObject("moescope");
            if (own != null && own.has("source")) {
                own.getAsJsonObject("source").entrySet().forEach(e -> m.put(e.getKey(), e.getValue().getAsString()));
            }
            return m;
        }

        /** θ (all entries of {@code threshold} are equal for BatchTopK). */
        public float theta() {
            return threshold.length == 0 ? 0 : threshold[0];
        }
    }

    /**
     * Writes the pair into {@code dir}. {@code encoder}/{@code decoder} are the trainer's latent-major
     * {@code F x d} arrays in normalised units; {@code theta} &lt; 0 (never estimated) is written as 0.
     */
    public static void write(Path dir, int width, int latents, float[] encoder, float[] encoderBias, float[] decoder,
                             float[] decoderBias, double scale, double theta, int k, String hookName,
                             Map<String, String> source, Provenance provenance) {
        float c = (float) scale;
        float[] wEnc = new float[width * latents];
        for (int i = 0; i < latents; i++) {
            for (int j = 0; j < width; j++) {
                wEnc[j * latents + i] = encoder[i * width + j] * c;
            }
        }
        float[] wDec = new float[latents * width];
        for (int i = 0; i < wDec.length; i++) {
            wDec[i] = decoder[i] / c;
        }
        float[] bDec = new float[width];
        for (int j = 0; j < width; j++) {
            bDec[j] = decoderBias[j] / c;
        }
        float[] threshold = new float[latents];
        java.util.Arrays.fill(threshold, (float) Math.max(0, theta));
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        t.put("W_enc", Safetensors.Tensor.f32(wEnc, width, latents));
        t.put("b_enc", Safetensors.Tensor.f32(encoderBias.clone(), latents));
        t.put("W_dec", Safetensors.Tensor.f32(wDec, latents, width));
        t.put("b_dec", Safetensors.Tensor.f32(bDec, width));
        t.put("threshold", Safetensors.Tensor.f32(threshold, latents));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("moescope.provenance", Json.gson().toJson(provenance));
        Safetensors.write(dir.resolve(WEIGHTS), t, meta);

        Map<String, Object> cfg = new LinkedHashMap<>();
        // SAELens v6 fields
        cfg.put("architecture", "jumprelu");
        cfg.put("d_in", width);
        cfg.put("d_sae", latents);
        cfg.put("dtype", "float32");
        cfg.put("device", "cpu");
        cfg.put("apply_b_dec_to_input", true);
        cfg.put("normalize_activations", "none");
        cfg.put("reshape_activations", "none");
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("hook_name", hookName);
        metadata.put("model_name", source.getOrDefault("model", "unknown"));
        metadata.put("sae_lens_training_version", null);
        cfg.put("metadata", metadata);
        // legacy (SAELens < 6) top-level fields, ignored by v6
        cfg.put("hook_name", hookName);
        cfg.put("activation_fn_str", "relu");
        cfg.put("finetuning_scaling_factor", false);
        // moescope's own record of how the SAE was trained
        Map<String, Object> moescope = new LinkedHashMap<>();
        moescope.put("trained_as", "batchtopk");
        moescope.put("k", k);
        moescope.put("threshold", Math.max(0, theta));
        moescope.put("input_scale_folded", scale);
        moescope.put("source", source);
        cfg.put("moescope", moescope);
        Json.write(dir.resolve(CONFIG), cfg);
    }

    /** Reads back a pair written by {@link #write}. */
    public static RawSae read(Path dir) {
        Path weights = dir.resolve(WEIGHTS);
        Path cfgFile = dir.resolve(CONFIG);
        JsonObject cfg;
        try {
            cfg = JsonParser.parseString(Files.readString(cfgFile, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (java.nio.file.NoSuchFileException e) {
            throw MoescopeException.badInput(cfgFile, "file not found (is this an `sae train` output directory?)");
        } catch (IOException | RuntimeException e) {
            throw MoescopeException.badInput(cfgFile, "cannot read: " + e.getMessage(), e);
        }
        Safetensors.Contents c = Safetensors.read(weights);
        int width = cfg.get("d_in").getAsInt();
        int latents = cfg.get("d_sae").getAsInt();
        float[] wEnc = c.floats(weights, "W_enc");
        if (wEnc.length != (long) width * latents) {
            throw MoescopeException.badInput(weights, "W_enc has " + wEnc.length + " values, cfg.json says "
                    + width + " x " + latents);
        }
        return new RawSae(width, latents, wEnc, c.floats(weights, "b_enc"), c.floats(weights, "W_dec"),
                c.floats(weights, "b_dec"), c.floats(weights, "threshold"), cfg);
    }
}
