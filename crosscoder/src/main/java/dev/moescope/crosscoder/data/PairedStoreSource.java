package dev.moescope.crosscoder.data;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.store.stream.HookBatch;
import dev.moescope.store.stream.PairedStores;
import dev.moescope.store.stream.ShuffleConfig;
import dev.moescope.store.stream.ShuffledBatches;
import dev.moescope.store.stream.Split;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Several activation stores recorded on the same tokens, read through the store's {@link PairedStores}: opening
 * verifies the alignment row by row (tokenizer, row count, document id, position, token id) and refuses misaligned
 * stores with the first mismatch; batches are shuffled within the training documents (10% of documents held out,
 * chosen by the seed) and hold the same rows from every store. Batch {@code index} is batch
 * {@code index mod perEpoch} of epoch {@code index / perEpoch}, each epoch reshuffled by its number; reads are
 * sequential (asking for an earlier batch re-opens the stream), memory stays at the shuffle buffer. The held-out
 * documents are streamed by {@link #forEachValidation}.
 */
public final class PairedStoreSource implements PairedSource {

    private static final int BUFFER_BATCHES = 16;
    private static final double VALIDATION_FRACTION = 0.1;

    private final List<Path> stores;
    private final List<String> hooks;
    private final long seed;
    private final PairedStores paired;
    private final int[] widths;
    private ShuffledBatches stream;
    private int epoch;
    private int rows;
    private long next; // index of the batch the open stream returns next
    private long epochStart;

    /** Opens and verifies {@code stores} (one hook each, in the same order). */
    public PairedStoreSource(List<Path> stores, List<String> hooks, long seed) {
        if (stores.size() < 2) {
            throw MoescopeException.usage("a crosscoder needs at least two --store, got " + stores.size());
        }
        if (hooks.size() != stores.size()) {
            throw MoescopeException.usage("one --hook per --store: " + stores.size() + " stores, " + hooks.size()
                    + " hooks");
        }
        this.stores = List.copyOf(stores);
        this.hooks = List.copyOf(hooks);
        this.seed = seed;
        this.paired = PairedStores.open(stores);
        this.widths = new int[stores.size()];
        try {
            for (int i = 0; i < stores.size(); i++) {
                widths[i] = paired.stores().get(i).hook(hooks.get(i)).width();
            }
        } catch (RuntimeException e) {
            paired.close();
            throw e;
        }
    }

    @Override
    public int[] widths() {
        return widths.clone();
    }

    @Override
    public List<String> names() {
        List<String> n = new ArrayList<>();
        for (int i = 0; i < stores.size(); i++) {
            n.add(stores.get(i) + ":" + hooks.get(i));
        }
        return n;
    }

    @Override
    public Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("source", "paired stores");
        for (int i = 0; i < stores.size(); i++) {
            m.put("store." + i, stores.get(i).toString());
            m.put("hook." + i, hooks.get(i));
        }
        m.put("rows", Long.toString(paired.rows()));
        m.put("validation_fraction", Double.toString(VALIDATION_FRACTION));
        m.put("seed", Long.toString(seed));
        return m;
    }

    @Override
    public float[][] trainBatch(long index, int batchRows) {
        if (stream == null || batchRows != rows || index < next) {
            open(0, batchRows, 0);
        }
        HookBatch b = null;
        while (next <= index) {
            b = stream.next();
            if (b == null) {
                if (next == epochStart) {
                    throw MoescopeException.badInput(stores.get(0), "too small: fewer training rows than one batch of "
                            + batchRows);
                }
                open(epoch + 1, batchRows, next);
                continue;
            }
            next++;
        }
        float[][] out = new float[widths.length][];
        for (int s = 0; s < widths.length; s++) {
            out[s] = java.util.Arrays.copyOf(b.values(s), batchRows * widths[s]);
        }
        return out;
    }

    /** The held-out documents (the 10% the training batches never read), in store order. */
    @Override
    public void forEachValidation(int batchRows, long maxRows, BatchConsumer consumer) {
        ShuffleConfig c = new ShuffleConfig(batchRows, batchRows, seed, 0, Split.VALIDATION, VALIDATION_FRACTION,
                false, false);
        long seen = 0;
        try (ShuffledBatches s = paired.shuffled(hooks, c)) {
            HookBatch b;
            while (seen < maxRows && (b = s.next()) != null) {
                int n = (int) Math.min(b.rows(), maxRows - seen);
                float[][] out = new float[widths.length][];
                for (int i = 0; i < widths.length; i++) {
                    out[i] = java.util.Arrays.copyOf(b.values(i), n * widths[i]);
                }
                consumer.accept(out, n);
                seen += n;
            }
        }
    }

    private void open(int e, int batchRows, long firstIndex) {
        if (stream != null) {
            stream.close();
        }
        ShuffleConfig c = new ShuffleConfig(batchRows, Math.multiplyExact(batchRows, BUFFER_BATCHES), seed, e,
                Split.TRAIN, VALIDATION_FRACTION, true, true);
        stream = paired.shuffled(hooks, c);
        epoch = e;
        rows = batchRows;
        next = firstIndex;
        epochStart = firstIndex;
    }

    @Override
    public void close() {
        if (stream != null) {
            stream.close();
        }
        paired.close();
    }
}
