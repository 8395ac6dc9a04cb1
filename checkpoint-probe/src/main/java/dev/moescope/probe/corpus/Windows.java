package dev.moescope.probe.corpus;

import dev.moescope.core.error.Require;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a document's tokens into windows of at most {@code seqLen} tokens. With {@code overlap} > 0 each window
 * after the first starts {@code overlap} tokens early, and those tokens serve only as context
 * ({@link Window#firstScored}), so every document token is recorded exactly once.
 */
public final class Windows {

    private Windows() {
    }

    public static List<Window> split(long doc, String domain, long[] tokens, int seqLen, int overlap) {
        Require.positive("sequence length", seqLen);
        Require.that(overlap >= 0 && overlap < seqLen, "overlap", "in [0, seq-len)", overlap);
        List<Window> out = new ArrayList<>();
        int scoredFrom = 0;
        while (scoredFrom < tokens.length) {
            int start = Math.max(0, scoredFrom - overlap);
            int end = Math.min(tokens.length, start + seqLen);
            long[] ids = new long[end - start];
            long[] next = new long[end - start];
            for (int i = start; i < end; i++) {
                ids[i - start] = tokens[i];
                next[i - start] = i + 1 < tokens.length ? tokens[i + 1] : -1;
            }
            out.add(new Window(doc, domain, start, ids, scoredFrom - start, next));
            scoredFrom = end;
        }
        return out;
    }
}
