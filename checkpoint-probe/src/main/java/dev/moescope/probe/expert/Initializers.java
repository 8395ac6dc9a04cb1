package dev.moescope.probe.expert;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.platform.Fp16Conversions;
import dev.moescope.core.error.MoescopeException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads slices of a model's initializers as fp32, wherever ONNX keeps them: inline {@code raw_data} (little-endian),
 * the typed {@code float_data}/{@code int32_data}/{@code double_data} fields, or external data files
 * ({@code location}, {@code offset}, {@code length} relative to the model's directory) read at the slice's offset
 * only, so one expert of a fused [E, ., .] tensor is read without the other E−1. Element types: float32, float16,
 * bfloat16, float64.
 */
public final class Initializers implements AutoCloseable {

    private final Path model;
    private final Map<String, TensorProto> byName = new HashMap<>();
    private final Map<Path, FileChannel> external = new HashMap<>();

    public Initializers(ModelProto proto, Path model) {
        this.model = model;
        for (TensorProto t : proto.getGraph().getInitializerList()) {
            byName.put(t.getName(), t);
        }
    }

    /** The initializer's dims; bad input naming the model if there is none called {@code name}. */
    public long[] dims(String name) {
        TensorProto t = tensor(name);
        long[] d = new long[t.getDimsCount()];
        for (int i = 0; i < d.length; i++) {
            d[i] = t.getDims(i);
        }
        return d;
    }

    public boolean has(String name) {
        return byName.containsKey(name);
    }

    private TensorProto tensor(String name) {
        TensorProto t = byName.get(name);
        if (t == null) {
            throw MoescopeException.badInput(model, "the export sidecar names weight '" + name
                    + "' but the graph has no such initializer");
        }
        return t;
    }

    /** Elements {@code [offset, offset + count)} of {@code name} (row-major), as fp32. */
    public float[] read(String name, long offset, int count) {
        TensorProto t = tensor(name);
        long total = 1;
        for (long d : t.getDimsList()) {
            total *= d;
        }
        if (offset < 0 || offset + count > total) {
            throw new IllegalArgumentException(name + ": slice [" + offset + ", " + (offset + count) + ") of " + total);
        }
        int type = t.getDataType();
        int size = switch (type) {
            case TensorProto.DataType.FLOAT_VALUE -> 4;
            case TensorProto.DataType.FLOAT16_VALUE, TensorProto.DataType.BFLOAT16_VALUE -> 2;
            case TensorProto.DataType.DOUBLE_VALUE -> 8;
            default -> throw MoescopeException.badInput(model, "weight '" + name + "' has element type " + type
                    + "; the expert probe reads float32, float16, bfloat16 and float64 weights");
        };
        float[] out = new float[count];
        ByteBuffer bytes = null;
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            bytes = readExternal(t, offset * size, (long) count * size);
        } else if (!t.getRawData().isEmpty()) {
            bytes = t.getRawData().substring(Math.toIntExact(offset * size), Math.toIntExact((offset + count) * size))
                    .asReadOnlyByteBuffer().slice(); // slice: absolute reads must start at the substring
        }
        if (bytes != null) {
            bytes.order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i++) {
                out[i] = switch (type) {
                    case TensorProto.DataType.FLOAT_VALUE -> bytes.getFloat(i * 4);
                    case TensorProto.DataType.FLOAT16_VALUE -> Fp16Conversions.fp16ToFloat(bytes.getShort(i * 2));
                    case TensorProto.DataType.BFLOAT16_VALUE -> Fp16Conversions.bf16ToFloat(bytes.getShort(i * 2));
                    default -> (float) bytes.getDouble(i * 8);
                };
            }
            return out;
        }
        int off = Math.toIntExact(offset);
        for (int i = 0; i < count; i++) {
            out[i] = switch (type) {
                case TensorProto.DataType.FLOAT_VALUE -> t.getFloatData(off + i);
                case TensorProto.DataType.FLOAT16_VALUE -> Fp16Conversions.fp16ToFloat((short) t.getInt32Data(off + i));
                case TensorProto.DataType.BFLOAT16_VALUE -> Fp16Conversions.bf16ToFloat((short) t.getInt32Data(off + i));
                default -> (float) t.getDoubleData(off + i);
            };
        }
        return out;
    }

    private ByteBuffer readExternal(TensorProto t, long sliceOffset, long sliceBytes) {
        String location = null;
        long base = 0;
        for (StringStringEntryProto kv : t.getExternalDataList()) {
            switch (kv.getKey()) {
                case "location" -> location = kv.getValue();
                case "offset" -> base = Long.parseLong(kv.getValue());
                default -> {
                }
            }
        }
        if (location == null) {
            throw MoescopeException.badInput(model, "weight '" + t.getName() + "' is external data without a location");
        }
        Path file = model.toAbsolutePath().resolveSibling(location).normalize();
        try {
            FileChannel ch = external.get(file);
            if (ch == null) {
                ch = FileChannel.open(file, StandardOpenOption.READ);
                external.put(file, ch);
            }
            ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(sliceBytes));
            long pos = base + sliceOffset;
            while (buf.hasRemaining()) {
                if (ch.read(buf, pos + buf.position()) < 0) {
                    throw MoescopeException.badInput(file, "external data ends before weight '" + t.getName() + "'");
                }
            }
            return buf.flip();
        } catch (IOException e) {
            throw MoescopeException.badInput(file, "cannot read external data of '" + t.getName() + "': " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        for (FileChannel ch : external.values()) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // read-only channel: nothing to flush
            }
        }
        external.clear();
    }
}
