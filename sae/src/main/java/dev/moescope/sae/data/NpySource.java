package dev.moescope.sae.data;

import dev.moescope.core.io.NpyHeader;
import dev.moescope.core.Seeds;
import dev.moescope.core.error.MoescopeException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Activations from a NumPy {@code .npy} file holding one little-endian float32 matrix {@code (rows, width)} in C
 * order. Rows are read on demand (positional reads; nothing but a shuffle window is held in memory). Consecutive
 * blocks of {@link #DOCUMENT_ROWS} rows stand in for documents: about one block in ten (seeded) is held out for
 * validation, and a trailing partial block goes to validation too. Training batches walk a seeded permutation of
 * the training blocks, shuffling rows within windows of {@link #WINDOW_BLOCKS} blocks.
 */
public final class NpySource implements ActivationSource {

    public static final int DOCUMENT_ROWS = 128;
    public static final int WINDOW_BLOCKS = 256;

    private final Path file;
    private final long seed;
    private final FileChannel channel;
    private final long dataOffset;
    private final long rows;
    private final int width;
    private final int[] trainBlocks;
    private final long[] validationRowsList;
    // cache of the current shuffle window
    private long cachedEpoch = -1;
    private long cachedWindow = -1;
    private int[] cachedRows;

    public NpySource(Path file, long seed) {
        this.file = file;
        this.seed = seed;
        try {
            this.channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw MoescopeException.badInput(file, "file not found");
        } catch (IOException e) {
            throw MoescopeException.badInput(file, "cannot open: " + e.getMessage(), e);
        }
        try {
            NpyHeader header = NpyHeader.read(channel, file);
            if (!header.descr().equals("<f4")) {
                throw MoescopeException.badInput(file, "expected dtype '<f4' (little-endian float32), got '"
                        + header.descr() + "'");
            }
            if (header.fortranOrder()) {
                throw MoescopeException.badInput(file, "Fortran-ordered arrays are not supported; save with C order");
            }
            if (header.shape().length != 2) {
                throw MoescopeException.badInput(file, "expected a 2-D array (rows, width), got shape "
                        + java.util.Arrays.toString(header.shape()));
            }
            this.rows = header.shape()[0];
            this.width = (int) header.shape()[1];
            this.dataOffset = header.dataOffset();
            long expected = dataOffset + rows * width * 4L;
            long size = Files.size(file);
            if (size != expected) {
                throw MoescopeException.badInput(file, "file has " + size + " bytes, header promises " + expected);
            }
            if (width <= 0) {
                throw MoescopeException.badInput(file, "width is 0");
            }
        } catch (IOException e) {
            throw MoescopeException.badInput(file, "cannot read: " + e.getMessage(), e);
        }
        // split whole blocks: ~10% (seeded) to validation, the trailing partial block too
        long fullBlocks = rows / DOCUMENT_ROWS;
        SplittableRandom r = Seeds.random(seed, "npy validation split");
        int nTrain = 0;
        boolean[] val = new boolean[(int) fullBlocks];
        for (int b = 0; b < fullBlocks; b++) {
            val[b] = r.nextDouble() < 0.1;
            if (!val[b]) {
                nTrain++;
            }
        }
        trainBlocks = new int[nTrain];
        int t = 0;
        long nVal = rows - fullBlocks * DOCUMENT_ROWS;
        for (int b = 0; b < fullBlocks; b++) {
            if (val[b]) {
                nVal += DOCUMENT_ROWS;
            } else {
                trainBlocks[t++] = b;
            }
        }
        validationRowsList = new long[(int) nVal];
        int v = 0;
        for (int b = 0; b < fullBlocks; b++) {
            if (val[b]) {
                for (int i = 0; i < DOCUMENT_ROWS; i++) {
                    validationRowsList[v++] = (long) b * DOCUMENT_ROWS + i;
                }
            }
        }
        for (long i = fullBlocks * DOCUMENT_ROWS; i < rows; i++) {
            validationRowsList[v++] = i;
        }
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public String name() {
        return file.toString();
    }

    @Override
    public Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("source", "npy");
        m.put("npy.path", file.toAbsolutePath().toString());
        m.put("npy.seed", Long.toString(seed));
        return m;
    }

    @Override
    public long trainRows() {
        return (long) trainBlocks.length * DOCUMENT_ROWS;
    }

    @Override
    public long validationRows() {
        return validationRowsList.length;
    }

    @Override
    public ActivationBatch trainBatch(long index, int n) {
        long perEpoch = trainRows();
        if (perEpoch == 0) {
            throw MoescopeException.badInput(file, "no training rows (" + rows + " rows in all)");
        }
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            long q = index * n + i;
            ids[i] = rowAt(q / perEpoch, q % perEpoch);
        }
        return read(ids);
    }

    @Override
    public void forEachValidation(int n, Consumer<ActivationBatch> consumer) {
        for (int start = 0; start < validationRowsList.length; start += n) {
            int m = Math.min(n, validationRowsList.length - start);
            long[] ids = new long[m];
            System.arraycopy(validationRowsList, start, ids, 0, m);
            consumer.accept(read(ids));
        }
    }

    /** The file row at position {@code q} of epoch {@code epoch}'s shuffled order. */
    private long rowAt(long epoch, long q) {
        int windowRows = WINDOW_BLOCKS * DOCUMENT_ROWS;
        long window = q / windowRows;
        int within = (int) (q % windowRows);
        if (epoch != cachedEpoch || window != cachedWindow) {
            int[] order = permutation(trainBlocks.length, Seeds.derive(seed, "npy epoch " + epoch));
            int firstBlock = (int) (window * WINDOW_BLOCKS);
            int nBlocks = Math.min(WINDOW_BLOCKS, trainBlocks.length - firstBlock);
            int[] perm = permutation(nBlocks * DOCUMENT_ROWS, Seeds.derive(seed, "npy window " + epoch + " " + window));
            int[] rowsOut = new int[perm.length];
            for (int i = 0; i < perm.length; i++) {
                int blk = trainBlocks[order[firstBlock + perm[i] / DOCUMENT_ROWS]];
                rowsOut[i] = blk * DOCUMENT_ROWS + perm[i] % DOCUMENT_ROWS;
            }
            cachedRows = rowsOut;
            cachedEpoch = epoch;
            cachedWindow = window;
        }
        return cachedRows[within];
    }

    private static int[] permutation(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private ActivationBatch read(long[] ids) {
        float[] x = new float[ids.length * width];
        ByteBuffer buf = ByteBuffer.allocate(width * 4).order(ByteOrder.LITTLE_ENDIAN);
        long[] docs = new long[ids.length];
        try {
            for (int i = 0; i < ids.length; i++) {
                buf.clear();
                long pos = dataOffset + ids[i] * width * 4L;
                while (buf.hasRemaining()) {
                    if (channel.read(buf, pos + buf.position()) < 0) {
                        throw MoescopeException.badInput(file, "truncated at row " + ids[i]);
                    }
                }
                buf.flip();
                buf.asFloatBuffer().get(x, i * width, width);
                docs[i] = ids[i] / DOCUMENT_ROWS;
            }
        } catch (IOException e) {
            throw MoescopeException.badInput(file, "cannot read: " + e.getMessage(), e);
        }
        return new ActivationBatch(x, ids.length, width, ids, docs);
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // read-only; nothing to lose
        }
    }
}
