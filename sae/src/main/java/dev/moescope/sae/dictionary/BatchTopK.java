package dev.moescope.sae.dictionary;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Exact BatchTopK selection: of the {@code rows x latents} pre-activations, keep the {@code winners} largest
 * positive ones over the whole batch (so mean L0 is exactly {@code winners / rows}) and zero the rest.
 *
 * <p>Cheaper than a full top-k: one pass builds a 65,536-bucket histogram of the ranking values' float bits
 * (for positive floats the bit pattern orders like the value), which names the one bucket holding the cut; a
 * second pass keeps everything above that bucket and collects the few values inside it, where an exact select
 * finds the threshold. Ties at the threshold are broken by flat index (row-major), so the result is deterministic
 * and has exactly {@code winners} entries whenever that many positive values exist.
 *
 * <p>An optional per-latent {@code rankScale} ranks by {@code pre * scale} but keeps the unscaled {@code pre} as
 * the value: the crosscoder's decoder-norm-weighted selection. The threshold statistic returned is the smallest
 * selected ranking value, which the inference threshold tracks.
 */
public final class BatchTopK {

    private static final int SHIFT = 15; // 2^16 buckets over the 31 magnitude bits
    private static final int BUCKETS = 1 << 16;

    private BatchTopK() {
    }

    /** The codes and the smallest selected ranking value (0 when nothing is selected). */
    public record Selection(SparseCodes codes, float minSelectedRank) {
    }

    /** Selection over a row-major {@code float[]}. */
    public static Selection select(float[] pre, int rows, int latents, int winners, float[] rankScale, Parallel par) {
        return select(FloatBuffer.wrap(pre), rows, latents, winners, rankScale, par);
    }

    /**
     * Selection over a row-major buffer (a DJL tensor's direct view, say); the buffer is only read.
     *
     * <p>Fast path: a sample of rows gives a lower bound {@code t_lo} a little below the expected cut; one pass
     * collects every value ranking at least {@code t_lo} (about 1.2·winners of them), and the exact cut is selected
     * among those. The result is exact whenever at least {@code winners} values pass the bound, which the margin
     * makes overwhelmingly likely; otherwise (or when the sample says nearly everything is selected) the exact
     * two-pass histogram method runs instead.
     */
    public static Selection select(FloatBuffer pre, int rows, int latents, int winners, float[] rankScale,
                                   Parallel par) {
        int stride = Math.max(1, rows / 256);
        int sampled = (rows + stride - 1) / stride;
        double expected = (double) winners * sampled / rows; // winners expected among the sampled rows
        float[] sample = new float[sampled * latents];
        int ns = 0;
        float[] row = new float[latents];
        for (int b = 0; b < rows; b += stride) {
            pre.get(b * latents, row, 0, latents);
            for (int j = 0; j < latents; j++) {
                float v = row[j];
                if (v > 0) {
                    sample[ns++] = rankScale == null ? v : v * rankScale[j];
                }
            }
        }
        int rank = (int) Math.ceil(expected * 1.2 + 4 * Math.sqrt(expected) + 32);
        if (stride == 1 || rank >= ns / 2) {
            return selectByHistogram(pre, rows, latents, winners, rankScale, par);
        }
        float lower = AuxK.kthLargest(sample, ns, rank);
        if (!(lower > 0)) {
            return selectByHistogram(pre, rows, latents, winners, rankScale, par);
        }
        int[] bounds = par.chunkBounds(rows);
        int chunks = bounds.length - 1;
        Entries[] parts = new Entries[chunks];
        par.forChunks(chunks, c -> {
            Entries e = new Entries(Math.max(16, (int) ((long) winners * (bounds[c + 1] - bounds[c]) / rows * 5 / 4)));
            float[] r = new float[latents];
            for (int b = bounds[c]; b < bounds[c + 1]; b++) {
                pre.get(b * latents, r, 0, latents);
                int local = b - bounds[c];
                if (rankScale == null) {
                    for (int j = 0; j < latents; j++) {
                        if (r[j] >= lower) {
                            e.add(local, j, r[j], r[j], true);
                        }
                    }
                } else {
                    // one predictable compare per entry: with lower > 0 and scales >= 0, v·s >= lower implies v > 0
                    // (a separate v > 0 test is a coin-flip branch on half the entries and tripled this loop's time)
                    for (int j = 0; j < latents; j++) {
                        float v = r[j];
                        float rv = v * rankScale[j];
                        if (rv >= lower) {
                            e.add(local, j, v, rv, true);
                        }
                    }
                }
            }
            parts[c] = e;
        });
        int n = 0;
        for (Entries e : parts) {
            n += e.size;
        }
        if (n < winners) {
            return selectByHistogram(pre, rows, latents, winners, rankScale, par); // the bound was too high
        }
        return finish(parts, bounds, rows, latents, winners, n);
    }

    /** Exact cut among collected candidates (all flagged candidate), ties by flat index, then CSR. */
    private static Selection finish(Entries[] parts, int[] bounds, int rows, int latents, int need, int nCand) {
        float[] ranks = new float[nCand];
        int p = 0;
        for (Entries e : parts) {
            System.arraycopy(e.rank, 0, ranks, p, e.size);
            p += e.size;
        }
        float t = AuxK.kthLargest(ranks, nCand, need);
        long greater = 0;
        for (Entries e : parts) {
            for (int i = 0; i < e.size; i++) {
                if (e.rank[i] > t) {
                    greater++;
                }
            }
        }
        long ties = need - greater;
        for (Entries e : parts) {
            for (int i = 0; i < e.size; i++) {
                e.keep[i] = e.rank[i] > t || (e.rank[i] == t && ties-- > 0);
            }
        }
        return assemble(parts, bounds, rows, latents);
    }

    /** The exact two-pass histogram selection (also the fallback of {@link #select}). */
    static Selection selectByHistogram(FloatBuffer pre, int rows, int latents, int winners, float[] rankScale,
                                       Parallel par) {
        int[] bounds = par.chunkBounds(rows);
        int chunks = bounds.length - 1;
        int[][] hists = new int[chunks][];
        par.forChunks(chunks, c -> {
            int[] h = new int[BUCKETS];
            float[] row = new float[latents];
            for (int b = bounds[c]; b < bounds[c + 1]; b++) {
                pre.get(b * latents, row, 0, latents);
                for (int j = 0; j < latents; j++) {
                    float v = row[j];
                    if (v > 0) {
                        float r = rankScale == null ? v : v * rankScale[j];
                        h[Float.floatToRawIntBits(r) >>> SHIFT]++;
                    }
                }
            }
            hists[c] = h;
        });
        long[] hist = new long[BUCKETS];
        long positives = 0;
        for (int[] h : hists) {
            for (int i = 0; i < BUCKETS; i++) {
                hist[i] += h[i];
            }
        }
        for (long v : hist) {
            positives += v;
        }
        // the cut bucket: everything strictly above it is selected, part of it may be
        int cut = 0;
        long above = 0;
        boolean takeAll = positives <= winners;
        if (!takeAll) {
            for (int i = BUCKETS - 1; i >= 0; i--) {
                if (above + hist[i] >= winners) {
                    cut = i;
                    break;
                }
                above += hist[i];
            }
        }
        final int cutBucket = takeAll ? 0 : cut;
        final long need = takeAll ? Long.MAX_VALUE : winners - above;

        // second pass: every value in a bucket >= cut, in flat order, flagged as sure (above) or candidate (in cut)
        Entries[] parts = new Entries[chunks];
        par.forChunks(chunks, c -> {
            Entries e = new Entries(bounds[c + 1] - bounds[c]);
            float[] row = new float[latents];
            for (int b = bounds[c]; b < bounds[c + 1]; b++) {
                pre.get(b * latents, row, 0, latents);
                int local = b - bounds[c];
                for (int j = 0; j < latents; j++) {
                    float v = row[j];
                    if (v > 0) {
                        float r = rankScale == null ? v : v * rankScale[j];
                        int bucket = Float.floatToRawIntBits(r) >>> SHIFT;
                        if (bucket > cutBucket || takeAll) {
                            e.add(local, j, v, r, false);
                        } else if (bucket == cutBucket) {
                            e.add(local, j, v, r, true);
                        }
                    }
                }
            }
            parts[c] = e;
        });

        // exact threshold among the candidates of the cut bucket
        int nCand = 0;
        for (Entries e : parts) {
            nCand += e.candidates;
        }
        float t = Float.NEGATIVE_INFINITY;
        long tiesAllowed = Long.MAX_VALUE;
        if (!takeAll && need < nCand) {
            float[] ranks = new float[nCand];
            int p = 0;
            for (Entries e : parts) {
                for (int i = 0; i < e.size; i++) {
                    if (e.candidate[i]) {
                        ranks[p++] = e.rank[i];
                    }
                }
            }
            Arrays.sort(ranks);
            t = ranks[nCand - (int) need];
            long greater = 0;
            for (float r : ranks) {
                if (r > t) {
                    greater++;
                }
            }
            tiesAllowed = need - greater;
        }
        // decide candidates in flat order (ties: lowest flat index first)
        long ties = tiesAllowed;
        for (Entries e : parts) {
            for (int i = 0; i < e.size; i++) {
                if (e.candidate[i]) {
                    boolean keep = e.rank[i] > t || (e.rank[i] == t && ties-- > 0);
                    e.keep[i] = keep;
                } else {
                    e.keep[i] = true;
                }
            }
        }
        return assemble(parts, bounds, rows, latents);
    }

    /** CSR from the kept entries of each row chunk; also the smallest kept rank. */
    private static Selection assemble(Entries[] parts, int[] bounds, int rows, int latents) {
        int chunks = parts.length;
        int[] rowPtr = new int[rows + 1];
        for (int c = 0; c < chunks; c++) {
            Entries e = parts[c];
            for (int i = 0; i < e.size; i++) {
                if (e.keep[i]) {
                    rowPtr[bounds[c] + e.row[i] + 1]++;
                }
            }
        }
        for (int b = 0; b < rows; b++) {
            rowPtr[b + 1] += rowPtr[b];
        }
        int nnz = rowPtr[rows];
        int[] cols = new int[nnz];
        float[] vals = new float[nnz];
        float[] mins = new float[chunks];
        for (int c = 0; c < chunks; c++) {
            Entries e = parts[c];
            int p = rowPtr[bounds[c]];
            float m = Float.POSITIVE_INFINITY;
            for (int i = 0; i < e.size; i++) {
                if (e.keep[i]) {
                    cols[p] = e.col[i];
                    vals[p] = e.val[i];
                    p++;
                    m = Math.min(m, e.rank[i]);
                }
            }
            mins[c] = m;
        }
        float min = Float.POSITIVE_INFINITY;
        for (float m : mins) {
            min = Math.min(min, m);
        }
        return new Selection(new SparseCodes(rows, latents, rowPtr, cols, vals),
                min == Float.POSITIVE_INFINITY ? 0f : min);
    }

    /** Growable parallel arrays of (row, column, value, rank, candidate) in flat order. */
    private static final class Entries {
        int size;
        int candidates;
        int[] row;
        int[] col;
        float[] val;
        float[] rank;
        boolean[] candidate;
        boolean[] keep;

        Entries(int rowsHint) {
            int cap = Math.max(16, rowsHint * 8);
            row = new int[cap];
            col = new int[cap];
            val = new float[cap];
            rank = new float[cap];
            candidate = new boolean[cap];
            keep = new boolean[cap];
        }

        void add(int r, int c, float v, float rk, boolean cand) {
            if (size == row.length) {
                int cap = size * 2;
                row = Arrays.copyOf(row, cap);
                col = Arrays.copyOf(col, cap);
                val = Arrays.copyOf(val, cap);
                rank = Arrays.copyOf(rank, cap);
                candidate = Arrays.copyOf(candidate, cap);
                keep = Arrays.copyOf(keep, cap);
            }
            row[size] = r;
            col[size] = c;
            val[size] = v;
            rank[size] = rk;
            candidate[size] = cand;
            if (cand) {
                candidates++;
            }
            size++;
        }
    }
}
