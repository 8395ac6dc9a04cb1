package dev.moescope.sae.data;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.Require;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.Chunk;
import dev.moescope.store.HookSpec;
import dev.moescope.store.TokenColumns;
import dev.moescope.store.stream.DocumentSplit;
import dev.moescope.store.stream.HookBatch;
import dev.moescope.store.stream.ShuffleConfig;
import dev.moescope.store.stream.ShuffledBatches;
import dev.moescope.store.stream.Split;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One hook of an activation store ({@code dev.moescope.store}) as an {@link ActivationSource}: a thin adapter over
 * the store's {@link ShuffledBatches} and {@link DocumentSplit}.
 *
 * <p>Split: by document, with the store's {@link DocumentSplit} of {@code (seed, validationFraction)}; it depends
 * on nothing else, so {@code sae eval} re-opening the source from what {@link #describe()} recorded sees exactly the
 * documents training never saw.
 *
 * <p>Training batches: epoch {@code e} is one pass of {@code ShuffledBatches} over the training documents with
 * chunk order and buffer draws seeded by {@code (seed, e)}, full batches only, so an epoch holds
 * {@code floor(trainRows / rows)} batches and batch {@code index} is batch {@code index mod perEpoch} of epoch
 * {@code index / perEpoch}. Consecutive indices are read straight from the open stream. Any other index (a
 * {@code --resume}, or going back) re-opens that epoch's stream and replays it up to the batch: the draws are the
 * same, so the batch is bit-identical to the one an uninterrupted run would have read. A resume costs reading (not
 * training on) the batches of its epoch before it.
 *
 * <p>Memory: the shuffle buffer ({@code bufferBatches * rows * width} floats) plus one store chunk.
 *
 * <p>Rows are identified by their global store row ({@link ActivationBatch#rowIds()}), so a NaN is reported by
 * store row; {@link #tokens(long, int)} gives the row metadata (document id, position, token id, text, domain).
 */
public final class StoreSource implements ActivationSource {

    /**
     * What defines a store source.
     *
     * @param store              the store directory
     * @param hook               the hook to read
     * @param seed               split, chunk order and buffer draws derive from it
     * @param validationFraction share of documents held out
     * @param bufferBatches      shuffle buffer size in batches
     */
    public record Spec(Path store, String hook, long seed, double validationFraction, int bufferBatches) {
        public Spec {
            Require.notNull("store", store);
            Require.notNull("hook", hook);
            Require.inHalfOpen("validation fraction", validationFraction, 0.0, 1.0);
            Require.positive("shuffle buffer batches", bufferBatches);
        }

        /** The spec {@link StoreSource#describe()} recorded. */
        public static Spec from(Map<String, String> recorded) {
            return new Spec(Path.of(recorded.get("store.path")), recorded.get("store.hook"),
                    Long.parseLong(recorded.get("store.seed")),
                    Double.parseDouble(recorded.get("store.validation_fraction")),
                    Integer.parseInt(recorded.get("store.buffer_batches")));
        }
    }

    private final Spec spec;
    private final ActivationStore store;
    private final HookSpec hook;
    private final DocumentSplit split;
    private final long trainRows;
    private final long validationRows;

    // the open training stream: epoch, batch size, and the index its next() returns
    private ShuffledBatches stream;
    private long streamEpoch = -1;
    private int streamRows;
    private long streamNext;

    public StoreSource(Spec spec) {
        this.spec = spec;
        this.store = ActivationStore.open(spec.store());
        try {
            // a missing hook is a one-line bad-input error listing the store's hooks
            this.hook = store.hook(spec.hook());
            this.split = new DocumentSplit(spec.seed(), spec.validationFraction());
            // counting reads only the document-index column, chunk by chunk
            long val = 0;
            for (Chunk c : store.chunks()) {
                for (long doc : store.readDocumentIndex(c.firstRow(), c.rows())) {
                    if (split.isValidation(doc)) {
                        val++;
                    }
                }
            }
            this.validationRows = val;
            this.trainRows = store.rows() - val;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** The open store (for reading row metadata and contexts; the source owns it). */
    public ActivationStore store() {
        return store;
    }

    public Spec spec() {
        return spec;
    }

    /** Row metadata of store rows {@code [firstRow, firstRow + rows)}. */
    public TokenColumns tokens(long firstRow, int rows) {
        return store.readTokens(firstRow, rows);
    }

    @Override
    public int width() {
        return hook.width();
    }

    @Override
    public String name() {
        return spec.store() + " hook " + spec.hook();
    }

    @Override
    public Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("source", "store");
        m.put("store.path", spec.store().toAbsolutePath().toString());
        m.put("store.hook", spec.hook());
        m.put("store.seed", Long.toString(spec.seed()));
        m.put("store.validation_fraction", Double.toString(spec.validationFraction()));
        m.put("store.buffer_batches", Integer.toString(spec.bufferBatches()));
        m.put("store.model", store.model().toString());
        m.put("store.rows", Long.toString(store.rows()));
        return m;
    }

    @Override
    public long trainRows() {
        return trainRows;
    }

    @Override
    public long validationRows() {
        return validationRows;
    }

    @Override
    public ActivationBatch trainBatch(long index, int rows) {
        long perEpoch = trainRows / rows;
        if (perEpoch == 0) {
            throw MoescopeException.badInput(spec.store(), "too small: " + trainRows + " training rows (of "
                    + store.rows() + "), fewer than one batch of " + rows);
        }
        long epoch = index / perEpoch;
        long within = index % perEpoch;
        if (epoch > Integer.MAX_VALUE) {
            throw MoescopeException.usage("batch " + index + " is past the last epoch the store stream can number");
        }
        if (stream == null || epoch != streamEpoch || rows != streamRows || within < streamNext) {
            if (stream != null) {
                stream.close();
            }
            ShuffleConfig c = new ShuffleConfig(rows, Math.multiplyExact(rows, spec.bufferBatches()), spec.seed(),
                    (int) epoch, Split.TRAIN, spec.validationFraction(), true, true);
            stream = store.shuffled(spec.hook(), c);
            streamEpoch = epoch;
            streamRows = rows;
            streamNext = 0;
        }
        HookBatch b;
        do {
            b = stream.next();
            streamNext++;
            if (b == null) {
                throw new IllegalStateException("epoch " + epoch + " of " + name() + " ended before batch " + within
                        + " of " + perEpoch);
            }
        } while (streamNext <= within);
        return new ActivationBatch(b.values(), b.rows(), hook.width(), b.rowIndex(), null);
    }

    @Override
    public void forEachValidation(int rows, Consumer<ActivationBatch> consumer) {
        ShuffleConfig c = new ShuffleConfig(rows, rows, spec.seed(), 0, Split.VALIDATION, spec.validationFraction(),
                false, false);
        try (ShuffledBatches s = store.shuffled(spec.hook(), c)) {
            for (HookBatch b; (b = s.next()) != null; ) {
                consumer.accept(new ActivationBatch(b.values(), b.rows(), hook.width(), b.rowIndex(),
                        documents(b.rowIndex())));
            }
        }
    }

    /** Document index of each row, read run by run of consecutive rows. */
    private long[] documents(long[] rows) {
        long[] out = new long[rows.length];
        int i = 0;
        while (i < rows.length) {
            int j = i + 1;
            while (j < rows.length && rows[j] == rows[j - 1] + 1) {
                j++;
            }
            System.arraycopy(store.readDocumentIndex(rows[i], j - i), 0, out, i, j - i);
            i = j;
        }
        return out;
    }

    @Override
    public void close() {
        if (stream != null) {
            stream.close();
        }
        store.close();
    }
}
