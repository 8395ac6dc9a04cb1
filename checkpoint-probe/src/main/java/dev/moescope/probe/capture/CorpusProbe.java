package dev.moescope.probe.capture;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.Require;
import dev.moescope.core.progress.Progress;
import dev.moescope.probe.corpus.CorpusReader;
import dev.moescope.probe.corpus.Document;
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

    /**
     * Where a resumed run continues.
     *
     * @param afterSource the {@link Document#source()} of the last document already recorded: it and every
     *                    document before it are skipped without tokenising; null to start at the beginning
     * @param tokensDone  tokens already recorded (they count towards {@link Options#maxTokens()})
     */
    public record Resume(String afterSource, long tokensDone) {
        /** A fresh run. */
        public static final Resume NONE = new Resume(null, 0);

        public Resume {
            Require.that(tokensDone >= 0, "tokens done", "non-negative", tokensDone);
        }
    }

    private CorpusProbe() {
    }

    /** Captures every batch of the corpus into {@code sink}. */
    public static Result run(Path corpus, CorpusReader.Options read, TextTokenizer tokenizer, RoutingCapture capture,
                             Options o, CaptureSink sink) {
        return run(corpus, read, tokenizer, capture, o, Resume.NONE, d -> { }, sink);
    }

    /**
     * Captures the corpus from {@code resume} on into {@code sink}; {@code documents} sees each document as it is
     * read, before any of its tokens reach the sink (the store writer takes document ids from it).
     */
    public static Result run(Path corpus, CorpusReader.Options read, TextTokenizer tokenizer, RoutingCapture capture,
                             Options o, Resume resume, Consumer<Document> documents, CaptureSink sink) {
        Result r = forEachBatch(corpus, read, tokenizer, o, resume, documents, windows -> {
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
        return forEachBatch(corpus, read, tokenizer, o, Resume.NONE, d -> { }, batches);
    }

    /**
     * As {@link #forEachBatch(Path, CorpusReader.Options, TextTokenizer, Options, Consumer)}, from {@code resume}
     * on; {@code documents} sees each document before its windows are batched. The result counts this run's tokens.
     */
    public static Result forEachBatch(Path corpus, CorpusReader.Options read, TextTokenizer tokenizer, Options o,
                                      Resume resume, Consumer<Document> documents, Consumer<List<Window>> batches) {
        long t0 = System.nanoTime();
        List<Window> pending = new ArrayList<>();
        long[] tokens = {resume.tokensDone()};
        long[] count = {0};
        long[] recorded = {0};
        boolean[] skipping = {resume.afterSource() != null};
        if (o.maxTokens() > 0 && resume.tokensDone() >= o.maxTokens()) {
            return new Result(0, 0, 0, 0, 0, 0);
        }
        // With a token budget the bar counts tokens; otherwise it counts documents (a cheap first pass that only
        // parses the corpus gives the total, hence an ETA) and shows tokens/s as its message.
        boolean byTokens = o.maxTokens() > 0;
        long total = byTokens ? o.maxTokens() - resume.tokensDone() : CorpusReader.read(corpus, read, d -> true);
        try (Progress progress = Progress.start("probe", total, byTokens ? "tok" : "doc")) {
            Consumer<List<Window>> flush = ws -> {
                if (!ws.isEmpty()) {
                    batches.accept(List.copyOf(ws));
                    count[0]++;
                    long n = ws.stream().mapToLong(w -> w.ids().length - w.firstScored()).sum();
                    if (byTokens) {
                        progress.stepBy(n);
                    } else {
                        double s = (System.nanoTime() - t0) / 1e9;
                        progress.message(String.format(java.util.Locale.ROOT, "%d tok, %.0f tok/s",
                                tokens[0] - resume.tokensDone(), (tokens[0] - resume.tokensDone()) / Math.max(s, 1e-9)));
                    }
                    ws.clear();
                }
            };
            CorpusReader.read(corpus, read, doc -> {
                if (!byTokens) {
                    progress.stepBy(1);
                }
                if (skipping[0]) {
                    skipping[0] = !doc.source().equals(resume.afterSource());
                    return true;
                }
                documents.accept(doc);
                recorded[0]++;
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
            if (skipping[0]) {
                throw MoescopeException.badInput(corpus, "has no document '" + resume.afterSource()
                        + "' (the last one already recorded): not the corpus (or --domains/--max-docs) of the first run");
            }
            return new Result(recorded[0], tokens[0] - resume.tokensDone(), count[0], (System.nanoTime() - t0) / 1e9, 0, 0);
        }
    }

    private static Window truncate(Window w, int scoredKept) {
        int len = w.firstScored() + scoredKept;
        return new Window(w.doc(), w.domain(), w.start(), Arrays.copyOf(w.ids(), len), w.firstScored(),
                Arrays.copyOf(w.next(), len));
    }
}
