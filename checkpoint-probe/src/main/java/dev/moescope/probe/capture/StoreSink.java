package dev.moescope.probe.capture;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.probe.corpus.Document;
import dev.moescope.store.HookName;
import dev.moescope.store.HookSpec;
import dev.moescope.store.Identity;
import dev.moescope.store.StoreSpec;
import dev.moescope.store.StoreWriter;
import dev.moescope.store.TokenRows;
import dev.moescope.store.manifest.Manifest;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes captured batches to an activation store: one store document per corpus document (its id is the
 * document's {@link Document#source()}, e.g. {@code code.jsonl:3}), with token ids, each routed layer's top-k
 * ids and gate weights, optionally the full router logits (hook {@code blocks.<L>.router_logits}) and the
 * captured hooks. A document may span batches, so it stays open until a token of the next one arrives or the
 * sink is closed.
 *
 * <p>The store is created (or resumed) when the first batch arrives, because hook widths are only known then;
 * a run that captures nothing writes nothing. Register {@link #document(Document)} as the corpus probe's document
 * listener. Closing after a failure leaves the committed shards intact (the open document is abandoned as after
 * a crash) so that {@code --resume} continues after them.
 */
public final class StoreSink implements CaptureSink, AutoCloseable {

    /**
     * What the store records besides routing.
     *
     * @param dir        the store directory
     * @param model      model identity (name and SHA-256)
     * @param tokenizer  tokenizer identity
     * @param fullLogits also record every routed layer's router logits
     * @param shardRows  rows per committed shard (the crash-safety granularity)
     * @param resume     append to the store at {@code dir} instead of creating it
     * @param provenance provenance of a new store's manifest
     */
    public record Options(Path dir, Identity model, Identity tokenizer, boolean fullLogits, int shardRows,
                          boolean resume, Provenance provenance) {
    }

    private final Options options;
    /** Documents read but not yet begun in the store, oldest first (bounded by the documents of one batch). */
    private final Deque<Document> announced = new ArrayDeque<>();
    private StoreWriter writer;
    private long openDoc = -1;
    private int nextPosition;
    private long rows;
    private long documents;

    public StoreSink(Options options) {
        this.options = options;
    }

    /**
     * Checks before any model run that the output can be written: a new store needs an empty or absent directory,
     * a resume needs a store there. Returns the resume point (documents and tokens already recorded).
     */
    public static CorpusProbe.Resume prepare(Path dir, boolean resume) {
        boolean exists = StoreWriter.exists(dir);
        if (!resume) {
            if (exists) {
                throw MoescopeException.badInput(dir, "already holds a store; pass --resume to continue it or"
                        + " choose another --out");
            }
            if (java.nio.file.Files.isDirectory(dir)) {
                try (var s = java.nio.file.Files.list(dir)) {
                    if (s.findAny().isPresent()) {
                        throw MoescopeException.badInput(dir, "directory is not empty; a new store needs an empty directory");
                    }
                } catch (java.io.IOException e) {
                    throw MoescopeException.badInput(dir, "cannot list: " + e.getMessage(), e);
                }
            }
            return CorpusProbe.Resume.NONE;
        }
        if (!exists) {
            return CorpusProbe.Resume.NONE; // nothing committed yet: a resume starts from the beginning
        }
        Manifest m = Manifest.read(dir);
        String last = m.shards().isEmpty() ? null : m.shards().get(m.shards().size() - 1).lastDocumentId();
        return new CorpusProbe.Resume(last, m.rows());
    }

    /** The corpus probe's document listener. */
    public void document(Document d) {
        announced.addLast(d);
    }

    @Override
    public void accept(CapturedBatch b) {
        int n = b.tokens().size();
        if (n == 0) {
            return;
        }
        if (writer == null) {
            open(b);
        }
        int start = 0;
        while (start < n) {
            long doc = b.tokens().get(start).doc();
            int end = start + 1;
            while (end < n && b.tokens().get(end).doc() == doc) {
                end++;
            }
            if (doc != openDoc) {
                beginDocument(doc);
            }
            append(b, start, end);
            start = end;
        }
    }

    private void beginDocument(long doc) {
        if (openDoc >= 0) {
            writer.endDocument();
            documents++;
        }
        Document d;
        do {
            d = announced.pollFirst();
            if (d == null) {
                throw new IllegalStateException("document " + doc + " was not announced to the store sink");
            }
        } while (d.index() != doc); // documents without tokens never reach the sink
        writer.beginDocument(d.source(), d.domain());
        openDoc = doc;
        nextPosition = 0;
    }

    private void append(CapturedBatch b, int from, int to) {
        int n = to - from;
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            CapturedBatch.Token t = b.tokens().get(from + i);
            if (t.position() != nextPosition + i) {
                throw new IllegalStateException("document " + t.doc() + ": position " + t.position() + " follows "
                        + (nextPosition + i - 1));
            }
            ids[i] = Math.toIntExact(t.tokenId());
        }
        TokenRows rows = TokenRows.of(ids);
        for (int li = 0; li < b.layers().length; li++) {
            int k = b.experts()[li][from].length;
            int[] e = new int[n * k];
            float[] w = new float[n * k];
            for (int i = 0; i < n; i++) {
                System.arraycopy(b.experts()[li][from + i], 0, e, i * k, k);
                System.arraycopy(b.weights()[li][from + i], 0, w, i * k, k);
            }
            rows.routing(b.layers()[li], e, w);
            if (options.fullLogits()) {
                int width = b.logits()[li].length / b.tokens().size();
                rows.hook(HookName.of(b.layers()[li], HookName.ROUTER_LOGITS), slice(b.logits()[li], from * width,
                        to * width));
            }
        }
        for (Map.Entry<String, float[]> h : b.hooks().entrySet()) {
            int width = b.widths().get(h.getKey());
            HookSpec spec = writer.spec().hook(h.getKey());
            if (spec.width() != width) {
                throw MoescopeException.badInput(options.dir(), "hook " + h.getKey() + " has width " + width
                        + " in the model but " + spec.width() + " in the store");
            }
            rows.hook(h.getKey(), slice(h.getValue(), from * width, to * width));
        }
        writer.append(rows);
        nextPosition += n;
        this.rows += n;
    }

    /** Rows [from, to) of a row-major array; the array itself when that is all of it (one document per batch). */
    private static float[] slice(float[] values, int from, int to) {
        return from == 0 && to == values.length ? values : Arrays.copyOfRange(values, from, to);
    }

    private void open(CapturedBatch b) {
        StoreSpec.Builder spec = StoreSpec.builder(options.model(), options.tokenizer()).shardRows(options.shardRows());
        for (int li = 0; li < b.layers().length; li++) {
            int k = b.experts()[li][0].length;
            int e = b.logits()[li].length / b.tokens().size();
            spec.routing(b.layers()[li], k, e);
            if (options.fullLogits()) {
                spec.hook(HookName.of(b.layers()[li], HookName.ROUTER_LOGITS), e);
            }
        }
        Map<String, Integer> widths = new LinkedHashMap<>(b.widths());
        widths.forEach(spec::hook);
        StoreSpec s = spec.build();
        writer = options.resume() && StoreWriter.exists(options.dir())
                ? StoreWriter.resume(options.dir(), s)
                : StoreWriter.create(options.dir(), s, options.provenance());
    }

    /** Rows written by this sink (this run). */
    public long rows() {
        return rows;
    }

    /** Documents completed by this sink (this run), counting the open one once closed. */
    public long documents() {
        return documents;
    }

    /** Whether a store was opened (something was captured). */
    public boolean opened() {
        return writer != null;
    }

    /** Ends the open document and commits; after a failure, call {@link #abandon()} instead. */
    @Override
    public void close() {
        if (writer == null) {
            return;
        }
        try {
            if (openDoc >= 0) {
                writer.endDocument();
                documents++;
                openDoc = -1;
            }
        } finally {
            writer.close();
        }
    }

    /**
     * Releases the store after a failed run: the open document is not ended, so its uncommitted shard is
     * abandoned exactly as after a crash and the committed shards stay for a resume.
     */
    public void abandon() {
        if (writer != null) {
            writer.close();
        }
    }
}
