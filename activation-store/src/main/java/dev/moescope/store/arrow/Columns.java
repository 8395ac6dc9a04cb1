package dev.moescope.store.arrow;

import dev.moescope.store.Dtype;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.util.Float16;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.complex.FixedSizeListVector;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.ShortBuffer;
import java.util.List;

/**
 * Bulk filling of fixed-width columns: values go straight into the vectors' data buffers through NIO views
 * (one {@code put} per call, not one {@code set} per value, which is 10-20x slower), and validity bits are set
 * in bytes once per batch.
 */
public final class Columns {

    private Columns() {
    }

    /** Copies {@code rows * width} floats into rows {@code [atRow, atRow + rows)} of a FixedSizeList column. */
    public static void putFloats(FixedSizeListVector list, Dtype dtype, int atRow, float[] src, int srcOffset,
                                 int rows, int width) {
        ArrowBuf data = ((BaseFixedWidthVector) list.getDataVector()).getDataBuffer();
        int n = rows * width;
        long byteOffset = (long) atRow * width * dtype.bytes();
        if (dtype == Dtype.FLOAT32) {
            FloatBuffer fb = data.nioBuffer(byteOffset, n * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            fb.put(src, srcOffset, n);
        } else {
            ShortBuffer sb = data.nioBuffer(byteOffset, n * 2).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
            for (int i = 0; i < n; i++) {
                sb.put(i, Float16.toFloat16(src[srcOffset + i]));
            }
        }
    }

    /** Copies {@code rows * width} ints into rows {@code [atRow, atRow + rows)} of a FixedSizeList<int32> column. */
    public static void putInts(FixedSizeListVector list, int atRow, int[] src, int srcOffset, int rows, int width) {
        ArrowBuf data = ((BaseFixedWidthVector) list.getDataVector()).getDataBuffer();
        int n = rows * width;
        IntBuffer ib = data.nioBuffer((long) atRow * width * 4, n * 4).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
        ib.put(src, srcOffset, n);
    }

    /** Marks the first {@code rows} rows of a FixedSizeList column and its child as non-null and sets the counts. */
    public static void seal(FixedSizeListVector list, int rows) {
        int width = list.getListSize();
        setAllValid(list.getValidityBuffer(), rows);
        setAllValid(((BaseFixedWidthVector) list.getDataVector()).getValidityBuffer(), rows * width);
        list.setValueCount(rows);
    }

    /** Allocates a FixedSizeList column for {@code rows} rows. */
    public static void allocate(FixedSizeListVector list, int rows) {
        list.setInitialCapacity(rows);
        list.allocateNew();
    }

    public static void setAllValid(ArrowBuf validity, int count) {
        int fullBytes = count / 8;
        if (fullBytes > 0) {
            validity.setOne(0L, (long) fullBytes);
        }
        for (int i = fullBytes * 8; i < count; i++) {
            BitVectorHelper.setBit(validity, i);
        }
    }

    /**
     * Fills a list<int32> and a list<float32> column with {@code rows} rows in compressed sparse row form
     * ({@code offsets} has {@code rows + 1} entries, relative to {@code offsets[0]}).
     */
    public static void putSparse(org.apache.arrow.vector.complex.ListVector indices,
                                 org.apache.arrow.vector.complex.ListVector values,
                                 int[] offsets, int[] idx, float[] val, int rows) {
        int base = offsets[0];
        int n = offsets[rows] - base;
        for (org.apache.arrow.vector.complex.ListVector v : List.of(indices, values)) {
            v.clear();
            v.setInitialCapacity(rows);
            v.allocateNew();
            for (int r = 0; r < rows; r++) {
                v.startNewValue(r);
                v.endValue(r, offsets[r + 1] - offsets[r]);
            }
        }
        org.apache.arrow.vector.IntVector ic = (org.apache.arrow.vector.IntVector) indices.getDataVector();
        org.apache.arrow.vector.Float4Vector vc = (org.apache.arrow.vector.Float4Vector) values.getDataVector();
        ic.allocateNew(Math.max(1, n));
        vc.allocateNew(Math.max(1, n));
        if (n > 0) {
            ic.getDataBuffer().nioBuffer(0, n * 4).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().put(idx, base, n);
            vc.getDataBuffer().nioBuffer(0, n * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(val, base, n);
            setAllValid(ic.getValidityBuffer(), n);
            setAllValid(vc.getValidityBuffer(), n);
        }
        ic.setValueCount(n);
        vc.setValueCount(n);
        indices.setValueCount(rows);
        values.setValueCount(rows);
    }

    /** A little-endian float view of {@code bytes} (a mapped region or a copy). */
    public static FloatBuffer floatView(ByteBuffer bytes) {
        return bytes.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    }
}
