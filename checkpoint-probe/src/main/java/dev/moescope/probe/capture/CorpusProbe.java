package dev.moescope.probe.capture;

import dev.moescope.core.error.Require;
import dev.moescope.core.progress.Progress;
import dev.moescope.probe.corpus.CorpusReader;
import dev.moescope.probe.corpus.TextTokenizer;
import dev.moescope.probe.corpus.Window;
import dev.moescope.probe.corpus.Windows;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Streams a corpus through a {@link RoutingCapture} into a {@link CaptureSink}: documents are tokenised one at a
 * time, cut into windows, gathered into batches of {@code batchSize} windows and captured; memory is bounded by
 * one batch (plus one document's tokens), whatever the corpus size.
 */
public final class CorpusProbe {

    /**
     * Batching options.
     *
     * @param seqLen    window length in tokens
     * @param overlap   context tokens repeated at the start of each following window of a document
     * @param batchSize windows per model run
     * @param maxTokens stop after recording this many tokens (0 = whole corpus)
     */
    public record Options(int seqLen, int overlap, int batchSize, long maxTokens) {
        public Options {
            Require.positive("seq-len", seqLen);
            Require.that(overlap >= 0 && overlap < seqLen, "overlap", "in [0, seq-len)", overlap);
            Require.positive("batch size", batchSize);
            Require.that(maxTokens >= 0, "max tokens", "non-negative", maxTokens);
        }
    }

    /** What a probe run did. */
    public record Result(long documents, long tokens, long batches, double seconds, long topKMismatches,
                         long topKChecked) {
        public double tokensPerSecond() {
            return seconds > 0 ? tokens / seconds : 0;
        }
    }

    private CorpusProbe() {
    }

    /** Captures every batch of the corpus into {@code sink}. */
    public static Result run(Path corpus, CorpusReader.Options read, TextTokenizer tokenizer, RoutingCapture capture,
                             Options o, CaptureSink sink) {
        Result r = forEachBatch(corpus, read, tokenizer, o, windows -> {
            sink.accept(capture.capture(windows));
        });
        return new Result(r.documents(), r.tokens(), r.batches(), r.seconds(), capture.topKMismatches(),
                capture.topKChecked());
    }

    /**
     * Tokenises and windows the corpus and hands batches of up to {@code batchSize} windows to {@code batches},
     * with a progress bar in recorded tokens (topK fields of the result are 0).
     */
    public static Result forEachBatch(Path corpus, CorpusReader.Options read, TextTokenizer tokenizer, Options o,
                                      Consumer<List<Window>> batches) {
        long t0 = System.nanoTime();
        List<Window> pending = new ArrayList<>();
        long[] tokens = {0};
        long[] count = {0};
        try (Progress progress = Progress.start("probe", o.maxTokens() > 0 ? o.maxTokens() : -1, "tok")) {
            Consumer<List<Window>> flush = ws -> {
                if (!ws.isEmpty()) {
                    batches.accept(List.copyOf(ws));
                    count[0]++;
                    progress.stepBy(ws.stream().mapToLong(w -> w.ids().length - w.firstScored()).sum());
                    ws.clear();
                }
            };
            long docs = CorpusReader.read(corpus, read, doc -> {
                long[] ids = tokenizer.encode(doc.text());
                for (Window w : Windows.split(doc.index(), doc.domain(), ids, o.seqLen(), o.overlap())) {
                    long scored = w.ids().length - w.firstScored();
                    if (o.maxTokens() > 0 && tokens[0] + scored > o.maxTokens()) {
                        w = truncate(w, (int) (o.maxTokens() - tokens[0]));
                        scored = w.ids().length - w.firstScored();
                    }
                    if (scored > 0) {
                        pending.add(w);
                        tokens[0] += scored;
                    }
                    if (pending.size() == o.batchSize()) {
                        flush.accept(pending);
                    }
                    if (o.maxTokens() > 0 && tokens[0] >= o.maxTokens()) {
                        return false;
                    }
                }
                return true;
            });
            flush.accept(pending);
            return new Result(docs, tokens[0], count[0], (System.nanoTime() - t0) / 1e9, 0, 0);
        }
    }

    private static Window truncate(Window w, int scoredKept) {
        int len = w.firstScored() + scoredKept;
        return new Window(w.doc(), w.domain(), w.start(), Arrays.copyOf(w.ids(), len), w.firstScored(),
                Arrays.copyOf(w.next(), len));
    }
}
