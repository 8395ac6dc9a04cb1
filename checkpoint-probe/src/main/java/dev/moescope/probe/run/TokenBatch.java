package dev.moescope.probe.run;

import dev.moescope.core.error.Require;

import java.util.List;

/**
 * Token sequences of one batch, right-padded to the longest, with the attention mask that marks real tokens.
 *
 * @param ids     [batch × seqLen] token ids, row-major; padding positions hold {@code padId}
 * @param batch   number of sequences
 * @param seqLen  padded length
 * @param lengths real length of each sequence
 */
public record TokenBatch(long[] ids, int batch, int seqLen, int[] lengths) {

    public TokenBatch {
        Require.positive("batch size", batch);
        Require.positive("sequence length", seqLen);
        Require.that(ids.length == (long) batch * seqLen, "ids length", "batch x seqLen", ids.length);
        Require.that(lengths.length == batch, "lengths", "one per sequence", lengths.length);
    }

    /** Right-pads {@code sequences} with {@code padId}. */
    public static TokenBatch pad(List<long[]> sequences, long padId) {
        Require.that(!sequences.isEmpty(), "batch", "non-empty", 0);
        int max = 0;
        for (long[] s : sequences) {
            Require.that(s.length > 0, "sequence length", "positive", 0);
            max = Math.max(max, s.length);
        }
        long[] ids = new long[sequences.size() * max];
        int[] lengths = new int[sequences.size()];
        for (int b = 0; b < sequences.size(); b++) {
            long[] s = sequences.get(b);
            java.util.Arrays.fill(ids, b * max, (b + 1) * max, padId);
            System.arraycopy(s, 0, ids, b * max, s.length);
            lengths[b] = s.length;
        }
        return new TokenBatch(ids, sequences.size(), max, lengths);
    }

    /** 1 for real tokens, 0 for padding, [batch × seqLen]. */
    public long[] attentionMask() {
        long[] m = new long[ids.length];
        for (int b = 0; b < batch; b++) {
            java.util.Arrays.fill(m, b * seqLen, b * seqLen + lengths[b], 1L);
        }
        return m;
    }

    /**
     * Positions 0..len-1 for real tokens; padding gets 1, as Hugging Face's
     * {@code position_ids.masked_fill_(attention_mask == 0, 1)} does (any value works: padding is masked).
     */
    public long[] positionIds() {
        long[] p = new long[ids.length];
        for (int b = 0; b < batch; b++) {
            for (int s = 0; s < seqLen; s++) {
                p[b * seqLen + s] = s < lengths[b] ? s : 1;
            }
        }
        return p;
    }

    /** Number of real (unpadded) tokens. */
    public long realTokens() {
        long n = 0;
        for (int l : lengths) {
            n += l;
        }
        return n;
    }
}
