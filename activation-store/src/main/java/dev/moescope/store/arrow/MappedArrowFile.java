package dev.moescope.store.arrow;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.store.Dtype;

import org.apache.arrow.compression.CommonsCompressionFactory;
import org.apache.arrow.flatbuf.Buffer;
import org.apache.arrow.flatbuf.RecordBatch;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.util.Float16;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.TypeLayout;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ReadChannel;
import org.apache.arrow.vector.ipc.message.ArrowBlock;
import org.apache.arrow.vector.ipc.message.MessageMetadataResult;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.MappedByteBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * An Arrow IPC file opened for reading fixed-width columns by record batch.
 *
 * <p>Arrow Java has no zero-copy memory-mapped reader (apache/arrow-java#292), so this class reads the footer and
 * each record batch's metadata once, then maps the file and hands out views of the column data buffers
 * directly: reading an uncompressed float column costs no copy until the caller's own {@code get}. Compressed
 * batches (ZSTD) go through {@link ArrowFileReader}, which decompresses into off-heap buffers (one copy).
 *
 * <p>Not thread-safe. Every failure to make sense of the file is a bad-input error naming it.
 */
public final class MappedArrowFile implements AutoCloseable {

    private final Path path;
    private final FileChannel channel;
    private final ArrowFileReader reader;
    private final Schema schema;
    private final List<ArrowBlock> blocks;
    private final List<BatchLayout> batches = new ArrayList<>();
    private final int[] firstBufferOfField;
    private final long size;
    private final ByteBuffer whole;
    private int loadedBatch = -1;

    /** Where one record batch's buffers lie in the file. */
    private record BatchLayout(int rows, long bodyStart, long[] offsets, long[] lengths, boolean compressed) {
    }

    private MappedArrowFile(Path path, BufferAllocator allocator) throws IOException {
        this.path = path;
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
        this.size = channel.size();
        this.reader = new ArrowFileReader(channel, allocator, CommonsCompressionFactory.INSTANCE);
        VectorSchemaRoot root = reader.getVectorSchemaRoot();
        this.schema = reader.getVectorSchemaRoot().getSchema();
        this.blocks = reader.getRecordBlocks();
        List<Field> fields = root.getSchema().getFields();
        firstBufferOfField = new int[fields.size() + 1];
        for (int i = 0; i < fields.size(); i++) {
            firstBufferOfField[i + 1] = firstBufferOfField[i] + bufferCount(fields.get(i));
        }
        for (ArrowBlock block : blocks) {
            if (block.getOffset() < 0 || block.getOffset() + block.getMetadataLength() + block.getBodyLength() > size) {
                throw new IOException("record batch at offset " + block.getOffset() + " lies beyond the end of the file");
            }
            channel.position(block.getOffset());
            MessageMetadataResult message = MessageSerializer.readMessage(new ReadChannel(channel));
            if (message == null) {
                throw new IOException("no record batch message at offset " + block.getOffset());
            }
            RecordBatch rb = (RecordBatch) message.getMessage().header(new RecordBatch());
            if (rb == null) {
                throw new IOException("block at offset " + block.getOffset() + " is not a record batch");
            }
            int n = rb.buffersLength();
            long[] offsets = new long[n];
            long[] lengths = new long[n];
            for (int i = 0; i < n; i++) {
                Buffer b = rb.buffers(i);
                offsets[i] = b.offset();
                lengths[i] = b.length();
                if (b.offset() < 0 || b.offset() + b.length() > block.getBodyLength()) {
                    throw new IOException("buffer " + i + " of the batch at offset " + block.getOffset()
                            + " lies outside the batch body");
                }
            }
            if (rb.length() > Integer.MAX_VALUE) {
                throw new IOException("record batch too long");
            }
            batches.add(new BatchLayout((int) rb.length(), block.getOffset() + block.getMetadataLength(), offsets,
                    lengths, rb.compression() != null));
        }
        this.whole = size <= Integer.MAX_VALUE ? channel.map(FileChannel.MapMode.READ_ONLY, 0, size) : null;
    }

    /** Opens {@code path}; a missing, truncated or corrupted file is a bad-input error naming it. */
    public static MappedArrowFile open(Path path, BufferAllocator allocator) {
        try {
            return new MappedArrowFile(path, allocator);
        } catch (NoSuchFileException e) {
            throw MoescopeException.badInput(path, "file not found");
        } catch (IOException | RuntimeException e) {
            throw MoescopeException.badInput(path, "not a readable Arrow IPC file (truncated or corrupted?): "
                    + e.getMessage(), e);
        }
    }

    private static int bufferCount(Field field) {
        int n = field.getDictionary() != null ? 2 : TypeLayout.getTypeBufferCount(field.getType());
        for (Field child : field.getChildren()) {
            n += bufferCount(child);
        }
        return n;
    }

    public Path path() {
        return path;
    }

    public Schema schema() {
        return schema;
    }

    /** The file's own description of itself, or null if it carries none. */
    public TableMetadata metadata() {
        return TableMetadata.from(schema.getCustomMetadata());
    }

    public int batchCount() {
        return batches.size();
    }

    public int batchRows(int batch) {
        return batches.get(batch).rows();
    }

    public long rows() {
        long n = 0;
        for (BatchLayout b : batches) {
            n += b.rows();
        }
        return n;
    }

    public boolean compressed() {
        for (BatchLayout b : batches) {
            if (b.compressed()) {
                return true;
            }
        }
        return false;
    }

    /**
     * A zero-copy view of the float32 values of FixedSizeList column {@code field} in {@code batch}
     * ({@code rows * width} floats), or null when the batch is compressed or the column is not float32.
     */
    public FloatBuffer floatView(int batch, int field) {
        BatchLayout b = batches.get(batch);
        if (b.compressed() || !isElement(field, org.apache.arrow.vector.types.FloatingPointPrecision.SINGLE)) {
            return null;
        }
        return region(b, firstBufferOfField[field] + 2).asFloatBuffer();
    }

    /** Copies rows {@code [fromRow, fromRow + rows)} of float list column {@code field} of {@code batch}. */
    public void readFloats(int batch, int field, Dtype dtype, int width, int fromRow, int rows, float[] dst, int dstOffset) {
        BatchLayout b = batches.get(batch);
        checkRange(b, fromRow, rows);
        int n = rows * width;
        int start = fromRow * width;
        ByteBuffer data;
        if (!b.compressed()) {
            data = region(b, firstBufferOfField[field] + 2); // mapped: read in place
        } else {
            FixedSizeListVector v = (FixedSizeListVector) loaded(batch).get(field); // decompressed batch
            data = ((BaseFixedWidthVector) v.getDataVector()).getDataBuffer()
                    .nioBuffer(0, (int) ((long) b.rows() * width * dtype.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        }
        if (dtype == Dtype.FLOAT32) {
            data.asFloatBuffer().get(start, dst, dstOffset, n);
        } else {
            ShortBuffer sb = data.asShortBuffer();
            for (int i = 0; i < n; i++) {
                dst[dstOffset + i] = Float16.toFloat(sb.get(start + i));
            }
        }
    }

    /** Copies int32 values: {@code width} per row of a FixedSizeList column, or 1 per row of a plain int column. */
    public void readInts(int batch, int field, int width, int fromRow, int rows, int[] dst, int dstOffset) {
        BatchLayout b = batches.get(batch);
        checkRange(b, fromRow, rows);
        boolean list = schema.getFields().get(field).getType() instanceof org.apache.arrow.vector.types.pojo.ArrowType.FixedSizeList;
        if (!b.compressed()) {
            IntBuffer ib = region(b, firstBufferOfField[field] + (list ? 2 : 1)).asIntBuffer();
            ib.get(fromRow * width, dst, dstOffset, rows * width);
            return;
        }
        FieldVector v = loaded(batch).get(field);
        if (list) {
            IntVector child = (IntVector) ((FixedSizeListVector) v).getDataVector();
            for (int i = 0; i < rows * width; i++) {
                dst[dstOffset + i] = child.get(fromRow * width + i);
            }
        } else {
            IntVector iv = (IntVector) v;
            for (int i = 0; i < rows; i++) {
                dst[dstOffset + i] = iv.get(fromRow + i);
            }
        }
    }

    /** Copies int64 values of plain column {@code field}. */
    public void readLongs(int batch, int field, int fromRow, int rows, long[] dst, int dstOffset) {
        BatchLayout b = batches.get(batch);
        checkRange(b, fromRow, rows);
        if (!b.compressed()) {
            LongBuffer lb = region(b, firstBufferOfField[field] + 1).asLongBuffer();
            lb.get(fromRow, dst, dstOffset, rows);
            return;
        }
        BigIntVector v = (BigIntVector) loaded(batch).get(field);
        for (int i = 0; i < rows; i++) {
            dst[dstOffset + i] = v.get(fromRow + i);
        }
    }

    /**
     * Loads {@code batch} fully through Arrow's reader (decompressing if needed) and returns its root, valid until
     * the next load. Used for variable-width columns (strings, dictionaries) and compressed batches.
     */
    public VectorSchemaRoot load(int batch) {
        try {
            if (loadedBatch != batch) {
                reader.loadRecordBatch(blocks.get(batch));
                loadedBatch = batch;
            }
            return reader.getVectorSchemaRoot();
        } catch (IOException | RuntimeException e) {
            loadedBatch = -1;
            throw MoescopeException.badInput(path, "cannot read record batch " + batch + ": " + e.getMessage(), e);
        }
    }

    /** The dictionaries of the file (the domain labels of a tokens table). */
    public ArrowFileReader reader() {
        return reader;
    }

    private List<FieldVector> loaded(int batch) {
        return load(batch).getFieldVectors();
    }

    private boolean isElement(int field, org.apache.arrow.vector.types.FloatingPointPrecision precision) {
        Field f = schema.getFields().get(field);
        if (f.getChildren().size() != 1) {
            return false;
        }
        return f.getChildren().get(0).getType() instanceof org.apache.arrow.vector.types.pojo.ArrowType.FloatingPoint fp
                && fp.getPrecision() == precision;
    }

    private void checkRange(BatchLayout b, int fromRow, int rows) {
        if (fromRow < 0 || rows < 0 || fromRow + rows > b.rows()) {
            throw new IndexOutOfBoundsException("rows [" + fromRow + ", " + (fromRow + rows) + ") of a batch of " + b.rows());
        }
    }

    private ByteBuffer region(BatchLayout b, int buffer) {
        if (buffer >= b.offsets().length) {
            throw MoescopeException.badInput(path, "record batch has " + b.offsets().length + " buffers, expected more");
        }
        long start = b.bodyStart() + b.offsets()[buffer];
        long length = b.lengths()[buffer];
        try {
            ByteBuffer bb;
            if (whole != null) {
                bb = whole.slice((int) start, (int) length);
            } else {
                MappedByteBuffer m = channel.map(FileChannel.MapMode.READ_ONLY, start, length);
                bb = m;
            }
            return bb.order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw MoescopeException.badInput(path, "cannot map: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            reader.close();
        } catch (IOException e) {
            // closing a read-only file cannot lose data
        }
    }
}
