package dev.moescope.store.stream;

import dev.moescope.core.Seeds;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.Chunk;
import dev.moescope.store.HookSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Batches of one hook per source (one source for an SAE, two or more aligned stores for a crosscoder), read
 * with bounded memory.
 *
 * <p>Shuffled mode: the store's chunks (record batches, cut at every source's batch boundaries) are visited in a
 * seeded random order; their rows of the selected split flow through a shuffle buffer of
 * {@link ShuffleConfig#bufferRows()} rows, and each batch row is drawn uniformly from the buffer and replaced by
 * the next incoming row. Memory: the buffer plus one chunk per source. Sequential mode: rows in store order.
 *
 * <p>One pass per instance; make the next epoch with {@link ShuffleConfig#withEpoch(int)}.
 */
public final class ShuffledBatches implements AutoCloseable {

    private final List<ActivationStore> stores;
    private final List<HookSpec> hooks;
    private final ShuffleConfig config;
    private final DocumentSplit split;
    private final SplittableRandom random;
    private final int[] widths;
    private final long[][] plan;      // [i] = {firstRow, rows}
    private int nextPlan;

    // the chunk being consumed: per source a view of the mapped file (no copy) or, where there is none, a copy
    private java.nio.FloatBuffer[] pendingView;
    private float[][] pending;
    private long[] pendingRows;       // global row of each selected row
    private int[] pendingOffsets;     // offset of each selected row within the chunk
    private int pendingCount;
    private int pendingNext;

    // the shuffle buffer
    private final float[][] buffer;
    private final long[] bufferRow;
    private int bufferCount;

    /** Streams {@code hooks.get(i)} of {@code stores.get(i)}; the stores must hold the same rows (see {@link PairedStores}). */
    public ShuffledBatches(List<ActivationStore> stores, List<HookSpec> hooks, ShuffleConfig config) {
        if (stores.isEmpty() || stores.size() != hooks.size()) {
            throw new IllegalArgumentException("one hook per store");
        }
        this.stores = List.copyOf(stores);
        this.hooks = List.copyOf(hooks);
        this.config = config;
        this.split = config.documentSplit();
        this.random = Seeds.random(config.seed(), "store shuffle epoch " + config.epoch());
        long rows = stores.get(0).rows();
        for (ActivationStore s : stores) {
            if (s.rows() != rows) {
                throw MoescopeException.badInput(s.directory(), "has " + s.rows() + " rows but "
                        + stores.get(0).directory() + " has " + rows);
            }
        }
        widths = new int[hooks.size()];
        for (int i = 0; i < hooks.size(); i++) {
            widths[i] = hooks.get(i).width();
        }
        TreeSet<Long> cuts = new TreeSet<>();
        cuts.add(rows);
        for (ActivationStore s : stores) {
            for (Chunk c : s.chunks()) {
                cuts.add(c.firstRow());
            }
        }
        List<long[]> p = new ArrayList<>();
        long prev = -1;
        for (long cut : cuts) {
            if (prev >= 0 && cut > prev) {
                p.add(new long[]{prev, cut - prev});
            }
            prev = cut;
        }
        plan = p.toArray(new long[0][]);
        if (config.shuffle()) {
            for (int i = plan.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                long[] t = plan[i];
                plan[i] = plan[j];
                plan[j] = t;
            }
        }
        int cap = config.shuffle() ? config.bufferRows() : 0;
        buffer = new float[widths.length][];
        for (int i = 0; i < widths.length; i++) {
            buffer[i] = new float[Math.multiplyExact(cap, widths[i])];
        }
        bufferRow = new long[cap];
    }

    /** The next batch, or null at the end of the pass. */
    public HookBatch next() {
        if (!config.shuffle()) {
            return nextSequential();
        }
        fill();
        if (bufferCount == 0 || (config.dropLast() && bufferCount < config.batchRows() && !pendingAvailable())) {
            return null;
        }
        int n = Math.min(config.batchRows(), bufferCount);
        float[][] out = newOutput(n);
        long[] rows = new long[n];
        for (int j = 0; j < n; j++) {
            int r = random.nextInt(bufferCount);
            for (int s = 0; s < widths.length; s++) {
                System.arraycopy(buffer[s], r * widths[s], out[s], j * widths[s], widths[s]);
            }
            rows[j] = bufferRow[r];
            if (pendingAvailable()) {
                takePending(r);
            } else {
                int last = bufferCount - 1;
                for (int s = 0; s < widths.length; s++) {
                    System.arraycopy(buffer[s], last * widths[s], buffer[s], r * widths[s], widths[s]);
                }
                bufferRow[r] = bufferRow[last];
                bufferCount--;
            }
        }
        return new HookBatch(n, widths.clone(), out, rows);
    }

    private HookBatch nextSequential() {
        int n = 0;
        float[][] out = newOutput(config.batchRows());
        long[] rows = new long[config.batchRows()];
        while (n < config.batchRows() && pendingAvailable()) {
            int off = pendingOffsets[pendingNext];
            for (int s = 0; s < widths.length; s++) {
                if (pendingView[s] != null) {
                    pendingView[s].get(off * widths[s], out[s], n * widths[s], widths[s]);
                } else {
                    System.arraycopy(pending[s], off * widths[s], out[s], n * widths[s], widths[s]);
                }
            }
            rows[n++] = pendingRows[pendingNext++];
        }
        if (n == 0 || (config.dropLast() && n < config.batchRows())) {
            return null;
        }
        if (n < config.batchRows()) {
            for (int s = 0; s < widths.length; s++) {
                out[s] = java.util.Arrays.copyOf(out[s], n * widths[s]);
            }
            rows = java.util.Arrays.copyOf(rows, n);
        }
        return new HookBatch(n, widths.clone(), out, rows);
    }

    private float[][] newOutput(int n) {
        float[][] out = new float[widths.length][];
        for (int s = 0; s < widths.length; s++) {
            out[s] = new float[n * widths[s]];
        }
        return out;
    }

    private void fill() {
        while (bufferCount < bufferRow.length && pendingAvailable()) {
            takePending(bufferCount);
            bufferCount++;
        }
    }

    /** Moves the next pending row into buffer slot {@code slot}. */
    private void takePending(int slot) {
        int off = pendingOffsets[pendingNext];
        for (int s = 0; s < widths.length; s++) {
            if (pendingView[s] != null) {
                pendingView[s].get(off * widths[s], buffer[s], slot * widths[s], widths[s]);
            } else {
                System.arraycopy(pending[s], off * widths[s], buffer[s], slot * widths[s], widths[s]);
            }
        }
        bufferRow[slot] = pendingRows[pendingNext];
        pendingNext++;
    }

    /** Whether a pending row is available, loading chunks (skipping ones with no row of the split) as needed. */
    private boolean pendingAvailable() {
        while (pendingNext >= pendingCount) {
            if (nextPlan >= plan.length) {
                return false;
            }
            loadChunk(plan[nextPlan++]);
        }
        return true;
    }

    private void loadChunk(long[] range) {
        long first = range[0];
        int rows = (int) range[1];
        long[] docs = stores.get(0).readDocumentIndex(first, rows);
        int[] offsets = new int[rows];
        int count = 0;
        for (int i = 0; i < rows; i++) {
            if (split.accepts(config.split(), docs[i])) {
                offsets[count++] = i;
            }
        }
        pendingOffsets = offsets;
        pendingCount = count;
        pendingNext = 0;
        if (count == 0) {
            return;
        }
        pendingRows = new long[count];
        for (int i = 0; i < count; i++) {
            pendingRows[i] = first + offsets[i];
        }
        if (pending == null) {
            pending = new float[widths.length][];
            pendingView = new java.nio.FloatBuffer[widths.length];
        }
        for (int s = 0; s < widths.length; s++) {
            // rows are copied once, from the mapped file into the shuffle buffer; a copy of the chunk first only
            // where the file has no view (compressed, float16, sparse)
            pendingView[s] = stores.get(s).hookView(hooks.get(s).name(), first, rows);
            if (pendingView[s] != null) {
                continue;
            }
            int need = rows * widths[s];
            if (pending[s] == null || pending[s].length < need) {
                pending[s] = new float[need];
            }
            stores.get(s).readHook(hooks.get(s).name(), first, rows, pending[s], 0);
        }
    }

    /** Releases the buffers; the stores stay open (the caller owns them). */
    @Override
    public void close() {
        pending = null;
        pendingView = null;
    }
}
