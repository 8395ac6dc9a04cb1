package dev.moescope.core.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header mapping each tensor
 * name to {@code {dtype, shape, data_offsets}} (plus an optional {@code __metadata__} string map), then the raw
 * little-endian data. Written to a temporary sibling, forced and renamed, so a crash never leaves a torn file.
 */
public final class Safetensors {

    private Safetensors() {
    }

    /** One tensor to write: {@code F32} from floats or {@code I64} from longs. */
    public record Tensor(String dtype, long[] shape, float[] f32, long[] i64) {
        public static Tensor f32(float[] data, long... shape) {
            return new Tensor("F32", shape, data, null);
        }

        public static Tensor i64(long[] data, long... shape) {
            return new Tensor("I64", shape, null, data);
        }

        long bytes() {
            return f32 != null ? 4L * f32.length : 8L * i64.length;
        }
    }

    /** Writes {@code tensors} (in map order) and {@code metadata} to {@code file} atomically. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        JsonObject header = new JsonObject();
        if (metadata != null && !metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            header.add("__metadata__", meta);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            JsonObject o = new JsonObject();
            o.addProperty("dtype", t.dtype());
            JsonArray shape = new JsonArray();
            long n = 1;
            for (long s : t.shape()) {
                shape.add(s);
                n *= s;
            }
            long count = t.f32() != null ? t.f32().length : t.i64().length;
            if (n != count) {
                throw new IllegalArgumentException(e.getKey() + ": shape holds " + n + " values, data has " + count);
            }
            o.add("shape", shape);
            JsonArray offs = new JsonArray();
            offs.add(offset);
            offs.add(offset + t.bytes());
            o.add("data_offsets", offs);
            header.add(e.getKey(), o);
            offset += t.bytes();
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // data starts 8-byte aligned; pad the header with spaces
        AtomicFiles.write(file, ch -> {
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(json);
            while (head.position() < head.capacity()) {
                head.put((byte) ' ');
            }
            head.flip();
            AtomicFiles.writeFully(ch, head);
            ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (Tensor t : tensors.values()) {
                if (t.f32() != null) {
                    for (float v : t.f32()) {
                        if (buf.remaining() < 4) {
                            flush(ch, buf);
                        }
                        buf.putFloat(v);
                    }
                } else {
                    for (long v : t.i64()) {
                        if (buf.remaining() < 8) {
                            flush(ch, buf);
                        }
                        buf.putLong(v);
                    }
                }
            }
            flush(ch, buf);
        });
    }

    private static void flush(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        AtomicFiles.writeFully(ch, buf);
        buf.clear();
    }

    /** A safetensors file read back: metadata and tensors by name. */
    public record Contents(Map<String, String> metadata, Map<String, long[]> shapes, Map<String, float[]> f32,
                           Map<String, long[]> i64) {

        public float[] floats(Path file, String name) {
            float[] v = f32.get(name);
            if (v == null) {
                throw MoescopeException.badInput(file, "tensor '" + name + "' is missing");
            }
            return v;
        }

        public long[] longs(Path file, String name) {
            long[] v = i64.get(name);
            if (v == null) {
                throw MoescopeException.badInput(file, "tensor '" + name + "' is missing");
            }
            return v;
        }
    }

    /**
     * Reads only the {@code __metadata__} map from the header (a checkpoint's scalar state without its tensors);
     * malformed files are one-line bad-input errors.
     */
    public static Map<String, String> readMetadata(Path file) {
        try (var ch = java.nio.channels.FileChannel.open(file)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (len.hasRemaining() && ch.read(len) >= 0) {
                // read the 8-byte header length
            }
            if (len.hasRemaining()) {
                throw MoescopeException.badInput(file, "not a safetensors file (too short)");
            }
            long n = len.getLong(0);
            if (n <= 0 || 8 + n > ch.size() || n > Integer.MAX_VALUE) {
                throw MoescopeException.badInput(file, "not a safetensors file (header length " + n + ")");
            }
            ByteBuffer h = ByteBuffer.allocate((int) n);
            while (h.hasRemaining() && ch.read(h) >= 0) {
                // read the JSON header
            }
            JsonObject header;
            try {
                header = JsonParser.parseString(new String(h.array(), 0, h.position(), StandardCharsets.UTF_8))
                        .getAsJsonObject();
            } catch (RuntimeException e) {
                throw MoescopeException.badInput(file, "malformed safetensors header: " + e.getMessage(), e);
            }
            Map<String, String> meta = new LinkedHashMap<>();
            if (header.has("__metadata__")) {
                header.getAsJsonObject("__metadata__").entrySet()
                        .forEach(m -> meta.put(m.getKey(), m.getValue().getAsString()));
            }
            return meta;
        } catch (NoSuchFileException e) {
            throw MoescopeException.badInput(file, "file not found");
        } catch (IOException e) {
            throw MoescopeException.badInput(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** Reads a whole file (F32 and I64 tensors); malformed files are one-line bad-input errors. */
    public static Contents read(Path file) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw MoescopeException.badInput(file, "file not found");
        } catch (IOException e) {
            throw MoescopeException.badInput(file, "cannot read: " + e.getMessage(), e);
        }
        ByteBuffer bb = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        if (all.length < 8) {
            throw MoescopeException.badInput(file, "not a safetensors file (too short)");
        }
        long n = bb.getLong(0);
        if (n <= 0 || 8 + n > all.length) {
            throw MoescopeException.badInput(file, "not a safetensors file (header length " + n + ")");
        }
        JsonObject header;
        try {
            header = JsonParser.parseString(new String(all, 8, (int) n, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (RuntimeException e) {
            throw MoescopeException.badInput(file, "malformed safetensors header: " + e.getMessage(), e);
        }
        long base = 8 + n;
        Map<String, String> meta = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Map<String, float[]> f32 = new LinkedHashMap<>();
        Map<String, long[]> i64 = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                e.getValue().getAsJsonObject().entrySet().forEach(m -> meta.put(m.getKey(), m.getValue().getAsString()));
                continue;
            }
            JsonObject o = e.getValue().getAsJsonObject();
            JsonArray sh = o.getAsJsonArray("shape");
            long[] shape = new long[sh.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = sh.get(i).getAsLong();
            }
            JsonArray offs = o.getAsJsonArray("data_offsets");
            long from = base + offs.get(0).getAsLong();
            long to = base + offs.get(1).getAsLong();
            if (from < base || to > all.length || to < from) {
                throw MoescopeException.badInput(file, "tensor '" + e.getKey() + "' lies outside the file");
            }
            ByteBuffer slice = ByteBuffer.wrap(all, (int) from, (int) (to - from)).slice().order(ByteOrder.LITTLE_ENDIAN);
            shapes.put(e.getKey(), shape);
            String dtype = o.get("dtype").getAsString();
            if (dtype.equals("F32")) {
                float[] v = new float[(int) ((to - from) / 4)];
                slice.asFloatBuffer().get(v);
                f32.put(e.getKey(), v);
            } else if (dtype.equals("I64")) {
                long[] v = new long[(int) ((to - from) / 8)];
                slice.asLongBuffer().get(v);
                i64.put(e.getKey(), v);
            } else {
                throw MoescopeException.badInput(file, "tensor '" + e.getKey() + "' has unsupported dtype " + dtype);
            }
        }
        return new Contents(meta, shapes, f32, i64);
    }
}
