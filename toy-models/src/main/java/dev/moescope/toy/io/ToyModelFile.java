package dev.moescope.toy.io;

import dev.moescope.core.io.Safetensors;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.ToyWeights;
import dev.moescope.toy.train.TrainResult;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Saves a trained batch as one safetensors file: {@code W} (instances, E, n, m), {@code b} and {@code gate}
 * (instances, E, n), the data each instance saw ({@code density}, {@code importance}), its losses, and in the
 * metadata the architecture, training config, instance labels and seeds, and the provenance.
 */
public final class ToyModelFile {

    private ToyModelFile() {
    }

    public static void save(Path file, TrainResult result, Provenance provenance) {
        Architecture a = result.architecture();
        ToyWeights w = result.weights();
        int count = result.instances();
        int n = a.features();
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        t.put("W", Safetensors.Tensor.f32(w.w, count, a.experts(), n, a.hidden()));
        t.put("b", Safetensors.Tensor.f32(w.b, count, a.experts(), n));
        t.put("gate", Safetensors.Tensor.f32(w.gate, count, a.experts(), n));
        float[] density = new float[count * n];
        float[] importance = new float[count * n];
        String[] labels = new String[count];
        long[] seeds = new long[count];
        for (int s = 0; s < count; s++) {
            InstanceSpec spec = result.specs()[s];
            System.arraycopy(spec.density(), 0, density, s * n, n);
            System.arraycopy(spec.importance(), 0, importance, s * n, n);
            labels[s] = spec.label() + " router=" + spec.routerInit().cliName();
            seeds[s] = spec.seed();
        }
        t.put("density", Safetensors.Tensor.f32(density, count, n));
        t.put("importance", Safetensors.Tensor.f32(importance, count, n));
        t.put("held_out_loss", Safetensors.Tensor.f32(toFloat(result.heldOutLoss()), count));
        t.put("last_loss", Safetensors.Tensor.f32(toFloat(result.lastLoss()), count));
        t.put("last_load_balance", Safetensors.Tensor.f32(toFloat(result.lastBalance()), count));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("architecture", Json.gson().toJson(a));
        meta.put("training", Json.gson().toJson(result.config()));
        meta.put("labels", Json.gson().toJson(labels));
        meta.put("seeds", Json.gson().toJson(seeds));
        meta.put("provenance", Json.gson().toJson(provenance));
        Safetensors.write(file, t, meta);
    }

    private static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
