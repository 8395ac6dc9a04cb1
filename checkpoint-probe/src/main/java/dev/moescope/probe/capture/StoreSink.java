package dev.moescope.probe.capture;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.PreviousRun;
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
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

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
 *
 * <p>By default the store is written on a background thread fed through a bounded queue ({@link #DEFAULT_QUEUE}
 * batches), so the model computes the next batch while the previous one is copied into Arrow buffers and written:
 * one thread consumes the batches in arrival order, so the store is the same, byte for byte, as one written on the
 * caller's thread ({@code queue = 0}). Memory: at most {@code queue + 2} batches are held. A failure on the writing
 * thread is rethrown, unchanged, by the next {@link #accept} or by {@link #close}; {@link #abandon} only releases
 * the store.
 */
public final class StoreSink implements CaptureSink, AutoCloseable {

    /** Batches that may wait for the writing thread while the model runs ahead. */
    public static final int DEFAULT_QUEUE = 2;

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

    /** One batch for the writing thread, with the documents announced before it. */
    private record Item(List<Document> announced, CapturedBatch batch) {
    }

    /** Tells the writing thread to stop. */
    private static final Item END = new Item(List.of(), null);

    private final Options options;
    /** The writing thread's queue; null when writing on the caller's thread. */
    private final BlockingQueue<Item> queue;
    private final Thread worker;
    /** The first failure of the writing thread (then it takes no more batches). */
    private volatile Throwable failure;
    /** Set by {@link #abandon()}: the writing thread drops what is still queued. */
    private volatile boolean abandoning;
    /** Documents announced since the last batch was handed over (caller's side). */
    private List<Document> newlyAnnounced = new ArrayList<>();
    private boolean finished;

    // writing side: touched only by the writing thread, or by the caller after joining it
    /** Documents read but not yet begun in the store, oldest first (bounded by the documents of one batch). */
    private final Deque<Document> announced = new ArrayDeque<>();
    private StoreWriter writer;
    private long openDoc = -1;
    private int nextPosition;
    private long rows;
    private long documents;

    /** A sink that writes on a background thread with a queue of {@link #DEFAULT_QUEUE} batches. */
    public StoreSink(Options options) {
        this(options, DEFAULT_QUEUE);
    }

    /**
     * A sink whose writing thread takes up to {@code queue} waiting batches; {@code queue = 0} writes on the
     * caller's thread inside {@link #accept}.
     */
    public StoreSink(Options options, int queue) {
        if (queue < 0) {
            throw new IllegalArgumentException("queue must be >= 0, got " + queue);
        }
        this.options = options;
        if (queue == 0) {
            this.queue = null;
            this.worker = null;
        } else {
            this.queue = new ArrayBlockingQueue<>(queue);
            this.worker = new Thread(this::drain, "moescope-store-writer");
            this.worker.setDaemon(true); // a caller that dies without closing must not keep the JVM alive
            this.worker.start();
        }
    }

    /**
     * Checks before any model run that the output can be written: a new store needs an empty or absent directory,
     * a resume needs a store there. Returns the resume point (documents and tokens already recorded).
     */
    public static CorpusProbe.Resume prepare(Path dir, boolean resume) {
        boolean exists = StoreWriter.exists(dir);
        if (!resume) {
            if (exists) {
                throw PreviousRun.holds(dir, "store", true);
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
        newlyAnnounced.add(d);
    }

    /** Hands {@code b} to the writing thread (waiting while its queue is full), or writes it here. */
    @Override
    public void accept(CapturedBatch b) {
        if (finished) {
            throw new IllegalStateException("store sink is closed");
        }
        rethrowFailure();
        Item item = new Item(newlyAnnounced, b);
        newlyAnnounced = new ArrayList<>();
        if (queue == null) {
            write(item);
            return;
        }
        try {
            while (!queue.offer(item, 50, TimeUnit.MILLISECONDS)) {
                rethrowFailure(); // the writing thread stopped: it will not make room
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw MoescopeException.failure(options.dir() + ": interrupted while handing a batch to the store writer", e);
        }
    }

    /** The writing thread: takes batches in order until {@link #END}; after a failure it only waits for END. */
    private void drain() {
        while (true) {
            Item item;
            try {
                item = queue.take();
            } catch (InterruptedException e) {
                failure = MoescopeException.failure(options.dir() + ": store writer interrupted", e);
                return;
            }
            if (item == END) {
                return;
            }
            if (failure != null || abandoning) {
                continue;
            }
            try {
                write(item);
            } catch (Throwable t) {
                failure = t;
            }
        }
    }

    private void rethrowFailure() {
        Throwable t = failure;
        if (t == null) {
            return;
        }
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw MoescopeException.failure(options.dir() + ": store writer failed: " + t.getMessage(), t);
    }

    /** Writes one batch (writing thread, or the caller's without a queue). */
    private void write(Item item) {
        announced.addAll(item.announced());
        CapturedBatch b = item.batch();
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
                rows.hook(HookName.of(b.layers()[li], HookName.ROUTER_LOGITS), b.logits()[li], from * width);
            }
        }
        for (Map.Entry<String, float[]> h : b.hooks().entrySet()) {
            int width = b.widths().get(h.getKey());
            HookSpec spec = writer.spec().hook(h.getKey());
            if (spec.width() != width) {
                throw MoescopeException.badInput(options.dir(), "hook " + h.getKey() + " has width " + width
                        + " in the model but " + spec.width() + " in the store");
            }
            rows.hook(h.getKey(), h.getValue(), from * width);
        }
        writer.append(rows);
        nextPosition += n;
        this.rows += n;
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

    /** Rows written by this sink (this run); final once the sink is closed. */
    public long rows() {
        return rows;
    }

    /** Documents completed by this sink (this run), counting the open one once closed. */
    public long documents() {
        return documents;
    }

    /** Whether a store was opened (something was captured); final once the sink is closed. */
    public boolean opened() {
        return writer != null;
    }

    /**
     * Waits for the writing thread to write every queued batch, then ends the open document and commits; after a
     * failure, call {@link #abandon()} instead. Rethrows a failure of the writing thread (after releasing the store
     * as {@link #abandon()} does).
     */
    @Override
    public void close() {
        if (finished) {
            return;
        }
        stopWorker();
        finished = true;
        if (failure != null) {
            releaseAbandoned();
            rethrowFailure();
        }
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
     * Releases the store after a failed run: batches still queued are dropped and the open document is not ended,
     * so its uncommitted shard is abandoned exactly as after a crash and the committed shards stay for a resume.
     */
    public void abandon() {
        if (finished) {
            return;
        }
        abandoning = true;
        stopWorker();
        finished = true;
        releaseAbandoned();
    }

    private void releaseAbandoned() {
        if (writer != null) {
            writer.close();
        }
    }

    /** Sends END and waits for the writing thread (which first writes, or drops, what is queued before it). */
    private void stopWorker() {
        if (worker == null) {
            return;
        }
        boolean interrupted = false;
        boolean sent = false;
        while (!sent && worker.isAlive()) {
            try {
                sent = queue.offer(END, 50, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        while (worker.isAlive()) {
            try {
                worker.join();
            } catch (InterruptedException e) {
                interrupted = true; // the store must not be released under a running writer
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
