package dev.moescope.toy.io;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.io.Safetensors;
import dev.moescope.core.provenance.Hashing;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.ToyWeights;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.train.TrainResult;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One finished training batch of an experiment, kept so that an interrupted reproduction can resume without
 * retraining it. The file is found by a key over everything that determines the result (architecture, training
 * config, every instance's data, importance, router init and seed, and the build), so a checkpoint is only ever
 * reused for exactly the training it recorded. Losses are stored bit-exact (doubles as I64 bits), so a resumed
 * run's summary equals an uninterrupted one's.
 */
public final class TrainCheckpoint {

    private TrainCheckpoint() {
    }

    /** The checkpoint file of one training batch in {@code dir}: the task's name and the key's first 16 digits. */
    public static Path file(Path dir, String task, String key) {
        String slug = task.replaceAll("[^A-Za-z0-9.=-]+", "_");
        return dir.resolve(slug + "-" + key.substring(0, 16) + ".safetensors");
    }

    /** SHA-256 over what determines a training batch's result; {@code build} names the code (a commit or version). */
    public static String key(Architecture arch, TrainingConfig config, InstanceSpec[] specs, String build) {
        StringBuilder sb = new StringBuilder().append(build).append('\n').append(arch).append('\n').append(config);
        ByteBuffer floats = ByteBuffer.allocate(4 * specs.length * 2 * arch.features()).order(ByteOrder.LITTLE_ENDIAN);
        for (InstanceSpec s : specs) {
            sb.append('\n').append(s.seed()).append(' ').append(s.routerInit()).append(' ').append(s.label());
            for (float v : s.density()) {
                floats.putFloat(v);
            }
            for (float v : s.importance()) {
                floats.putFloat(v);
            }
        }
        byte[] text = sb.toString().getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[text.length + floats.position()];
        System.arraycopy(text, 0, all, 0, text.length);
        System.arraycopy(floats.array(), 0, all, text.length, floats.position());
        return Hashing.sha256Hex(all);
    }

    /** Writes {@code result} to {@code file} atomically (a temporary file, then a rename), with its key. */
    public static void save(Path file, TrainResult result, String key) {
        Architecture a = result.architecture();
        ToyWeights w = result.weights();
        int count = result.instances();
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        t.put("W", Safetensors.Tensor.f32(w.w, count, a.experts(), a.features(), a.hidden()));
        t.put("b", Safetensors.Tensor.f32(w.b, count, a.experts(), a.features()));
        t.put("gate", Safetensors.Tensor.f32(w.gate, count, a.experts(), a.features()));
        t.put("last_loss", bits(result.lastLoss()));
        t.put("last_recon", bits(result.lastRecon()));
        t.put("last_balance", bits(result.lastBalance()));
        t.put("held_out_loss", bits(result.heldOutLoss()));
        long[] steps = new long[count];
        for (int s = 0; s < count; s++) {
            steps[s] = result.stepsRun()[s];
        }
        t.put("steps_run", Safetensors.Tensor.i64(steps, count));
        int logs = count == 0 ? 0 : result.lossLog()[0].length;
        float[] log = new float[count * logs];
        for (int s = 0; s < count; s++) {
            System.arraycopy(result.lossLog()[s], 0, log, s * logs, logs);
        }
        t.put("loss_log", Safetensors.Tensor.f32(log, count, logs));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("key", key);
        meta.put("seconds", Double.toString(result.seconds()));
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Safetensors.write(tmp, t, meta);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw MoescopeException.failure(file + ": cannot write checkpoint: " + e.getMessage(), e);
        }
    }

    /**
     * The result recorded in {@code file}, if it exists, is readable and has {@code key}; otherwise empty (the batch
     * is then trained again).
     */
    public static Optional<TrainResult> load(Path file, String key, Architecture arch, TrainingConfig config,
                                             InstanceSpec[] specs) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            Safetensors.Contents c = Safetensors.read(file);
            if (!key.equals(c.metadata().get("key"))) {
                return Optional.empty();
            }
            int count = specs.length;
            ToyWeights w = new ToyWeights(arch, count);
            copy(c.floats(file, "W"), w.w);
            copy(c.floats(file, "b"), w.b);
            copy(c.floats(file, "gate"), w.gate);
            long[] steps = c.longs(file, "steps_run");
            int[] stepsRun = new int[count];
            for (int s = 0; s < count; s++) {
                stepsRun[s] = (int) steps[s];
            }
            float[] log = c.floats(file, "loss_log");
            int logs = count == 0 ? 0 : log.length / count;
            float[][] lossLog = new float[count][logs];
            for (int s = 0; s < count; s++) {
                System.arraycopy(log, s * logs, lossLog[s], 0, logs);
            }
            return Optional.of(new TrainResult(arch, config, specs.clone(), w, doubles(c.longs(file, "last_loss")),
                    doubles(c.longs(file, "last_recon")), doubles(c.longs(file, "last_balance")),
                    doubles(c.longs(file, "held_out_loss")), stepsRun, lossLog,
                    Double.parseDouble(c.metadata().getOrDefault("seconds", "0"))));
        } catch (RuntimeException unreadable) { // truncated or from another layout: train the batch again
            return Optional.empty();
        }
    }

    private static Safetensors.Tensor bits(double[] v) {
        long[] b = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Double.doubleToRawLongBits(v[i]);
        }
        return Safetensors.Tensor.i64(b, v.length);
    }

    private static double[] doubles(long[] bits) {
        double[] d = new double[bits.length];
        for (int i = 0; i < bits.length; i++) {
            d[i] = Double.longBitsToDouble(bits[i]);
        }
        return d;
    }

    private static void copy(float[] from, float[] to) {
        if (from.length != to.length) {
            throw new IllegalStateException("checkpoint tensor of " + from.length + " values, expected " + to.length);
        }
        System.arraycopy(from, 0, to, 0, to.length);
    }
}
