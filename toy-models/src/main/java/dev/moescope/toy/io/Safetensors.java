package dev.moescope.toy.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Minimal safetensors reader and writer for float32 tensors: an 8-byte little-endian header length, a JSON header
 * ({@code name → {dtype, shape, data_offsets}} plus string {@code __metadata__}), then the raw data. Files written
 * here load in Python with {@code safetensors.torch.load_file} or by hand with numpy.
 */
public final class Safetensors {

    /** A float32 tensor: shape and row-major data. */
    public record Tensor(long[] shape, float[] data) {
        public Tensor {
            long count = 1;
            for (long d : shape) {
                count *= d;
            }
            if (count != data.length) {
                throw new IllegalArgumentException("shape holds " + count + " values, data " + data.length);
            }
        }
    }

    /** Tensors and metadata read back. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
    }

    private Safetensors() {
    }

    /** Writes atomically (temporary file, then rename). */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        JsonObject header = new JsonObject();
        JsonObject meta = new JsonObject();
        metadata.forEach(meta::addProperty);
        header.add("__metadata__", meta);
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            JsonObject t = new JsonObject();
            t.addProperty("dtype", "F32");
            com.google.gson.JsonArray shape = new com.google.gson.JsonArray();
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            t.add("shape", shape);
            com.google.gson.JsonArray offs = new com.google.gson.JsonArray();
            offs.add(offset);
            offset += 4L * e.getValue().data().length;
            offs.add(offset);
            t.add("data_offsets", offs);
            header.add(e.getKey(), t);
        }
        byte[] head = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (head.length + 7) / 8 * 8;
        if (8L + padded + offset > Integer.MAX_VALUE) {
            throw MoescopeException.failure(file + ": model too large for one safetensors file", null);
        }
        ByteBuffer buf = ByteBuffer.allocate((int) (8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(padded);
        buf.put(head);
        for (int i = head.length; i < padded; i++) {
            buf.put((byte) ' ');
        }
        for (Tensor t : tensors.values()) {
            buf.asFloatBuffer().put(t.data());
            buf.position(buf.position() + 4 * t.data().length);
        }
        AtomicFiles.write(file, buf.array());
    }

    /** Reads a file written by {@link #write} (float32 tensors only); malformed files are bad input. */
    public static Contents read(Path file) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            throw MoescopeException.badInput(file, "cannot read: " + e.getMessage(), e);
        }
        try {
            ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
            long len = buf.getLong();
            if (len < 2 || 8 + len > all.length) {
                throw MoescopeException.badInput(file, "not a safetensors file (header length " + len + ")");
            }
            JsonObject header = JsonParser.parseString(new String(all, 8, (int) len, StandardCharsets.UTF_8))
                    .getAsJsonObject();
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e : header.entrySet()) {
                if (e.getKey().equals("__metadata__")) {
                    e.getValue().getAsJsonObject().entrySet().forEach(m -> metadata.put(m.getKey(), m.getValue().getAsString()));
                    continue;
                }
                JsonObject t = e.getValue().getAsJsonObject();
                if (!t.get("dtype").getAsString().equals("F32")) {
                    throw MoescopeException.badInput(file, "tensor " + e.getKey() + " is not F32");
                }
                long[] shape = new long[t.getAsJsonArray("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = t.getAsJsonArray("shape").get(i).getAsLong();
                }
                long start = t.getAsJsonArray("data_offsets").get(0).getAsLong();
                long end = t.getAsJsonArray("data_offsets").get(1).getAsLong();
                if (start < 0 || end < start || 8 + len + end > all.length) {
                    throw MoescopeException.badInput(file, "tensor " + e.getKey() + " lies outside the file");
                }
                float[] data = new float[(int) ((end - start) / 4)];
                ByteBuffer.wrap(all, (int) (8 + len + start), (int) (end - start)).order(ByteOrder.LITTLE_ENDIAN)
                        .asFloatBuffer().get(data);
                tensors.put(e.getKey(), new Tensor(shape, data));
            }
            return new Contents(tensors, metadata);
        } catch (RuntimeException e) {
            if (e instanceof MoescopeException me) {
                throw me;
            }
            throw MoescopeException.badInput(file, "malformed safetensors file: " + e.getMessage(), e);
        }
    }
}
