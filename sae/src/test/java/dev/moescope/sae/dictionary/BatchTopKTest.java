package dev.moescope.sae.dictionary;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The histogram selection picks exactly the set a full sort would, ties and rank scales included. */
class BatchTopKTest {

    /** Brute force: sort all positive entries by (rank desc, flat index asc), keep the first {@code winners}. */
    private static Set<Long> bruteForce(float[] pre, int rows, int cols, int winners, float[] scale) {
        List<long[]> all = new ArrayList<>();
        for (int i = 0; i < pre.length; i++) {
            if (pre[i] > 0) {
                all.add(new long[]{i});
            }
        }
        all.sort(Comparator.<long[]>comparingDouble(a -> -(double) rank(pre, (int) a[0], cols, scale))
                .thenComparingLong(a -> a[0]));
        Set<Long> s = new HashSet<>();
        for (int i = 0; i < Math.min(winners, all.size()); i++) {
            s.add(all.get(i)[0]);
        }
        return s;
    }

    private static float rank(float[] pre, int i, int cols, float[] scale) {
        return scale == null ? pre[i] : pre[i] * scale[i % cols];
    }

    private static Set<Long> selected(SparseCodes c) {
        Set<Long> s = new HashSet<>();
        for (int b = 0; b < c.rows; b++) {
            int prev = -1;
            for (int p = c.rowPtr[b]; p < c.rowPtr[b + 1]; p++) {
                assertTrue(c.cols[p] > prev, "columns ascend within a row");
                prev = c.cols[p];
                s.add((long) b * c.latents + c.cols[p]);
            }
        }
        return s;
    }

    @Test
    void matchesFullSortOnRandomAndTiedInputs() {
        Random r = new Random(7);
        try (Parallel par = new Parallel(2)) {
            for (int trial = 0; trial < 40; trial++) {
                int rows = 1 + r.nextInt(40);
                int cols = 2 + r.nextInt(300);
                int winners = 1 + r.nextInt(rows * cols / 2 + 1);
                float[] pre = new float[rows * cols];
                boolean ties = trial % 3 == 0;
                for (int i = 0; i < pre.length; i++) {
                    pre[i] = ties ? (r.nextInt(7) - 3) * 0.25f : (float) r.nextGaussian();
                }
                float[] scale = null;
                if (trial % 4 == 1) {
                    scale = new float[cols];
                    for (int j = 0; j < cols; j++) {
                        scale[j] = 0.1f + r.nextFloat() * 3;
                    }
                }
                BatchTopK.Selection sel = BatchTopK.select(pre, rows, cols, winners, scale, par);
                Set<Long> want = bruteForce(pre, rows, cols, winners, scale);
                assertEquals(want, selected(sel.codes()), "trial " + trial);
                assertEquals(want.size(), sel.codes().nnz());
                for (int p = 0; p < sel.codes().nnz(); p++) {
                    int b = 0;
                    while (sel.codes().rowPtr[b + 1] <= p) {
                        b++;
                    }
                    assertEquals(pre[b * cols + sel.codes().cols[p]], sel.codes().vals[p], "values are unscaled");
                }
            }
        }
    }

    /** Batches big enough for the sampled-bound fast path, with and without ties and rank scales. */
    @Test
    void fastPathMatchesFullSortAndTheHistogramPath() {
        Random r = new Random(17);
        try (Parallel par = new Parallel(2)) {
            for (int trial = 0; trial < 8; trial++) {
                int rows = 520 + r.nextInt(300);
                int cols = 64 + r.nextInt(200);
                int k = new int[]{1, 3, 8, 30}[trial % 4];
                float[] pre = new float[rows * cols];
                for (int i = 0; i < pre.length; i++) {
                    pre[i] = trial % 3 == 2 ? (r.nextInt(41) - 20) * 0.1f : (float) r.nextGaussian();
                }
                float[] scale = null;
                if (trial % 2 == 1) {
                    scale = new float[cols];
                    for (int j = 0; j < cols; j++) {
                        scale[j] = 0.2f + r.nextFloat();
                    }
                }
                int winners = k * rows;
                BatchTopK.Selection fast = BatchTopK.select(pre, rows, cols, winners, scale, par);
                BatchTopK.Selection hist = BatchTopK.selectByHistogram(java.nio.FloatBuffer.wrap(pre), rows, cols,
                        winners, scale, par);
                Set<Long> want = bruteForce(pre, rows, cols, winners, scale);
                assertEquals(want, selected(fast.codes()), "trial " + trial);
                assertEquals(want, selected(hist.codes()), "trial " + trial + " (histogram)");
                assertEquals(winners, fast.codes().nnz());
                assertEquals(hist.minSelectedRank(), fast.minSelectedRank());
            }
        }
    }

    @Test
    void keepsExactlyKTimesBWhenEnoughPositives() {
        Random r = new Random(3);
        int rows = 256;
        int cols = 1024;
        float[] pre = new float[rows * cols];
        for (int i = 0; i < pre.length; i++) {
            pre[i] = (float) r.nextGaussian();
        }
        try (Parallel par = new Parallel(2)) {
            SparseCodes c = BatchTopK.select(pre, rows, cols, 16 * rows, null, par).codes();
            assertEquals(16.0, c.l0(), 0.0);
        }
    }

    @Test
    void auxKMatchesPerRowSort() {
        Random r = new Random(11);
        int rows = 30;
        int cols = 50;
        float[] pre = new float[rows * cols];
        for (int i = 0; i < pre.length; i++) {
            pre[i] = (r.nextInt(9) - 3) * 0.5f; // many ties
        }
        int[] dead = {1, 4, 5, 9, 10, 22, 23, 30, 41, 49};
        try (Parallel par = new Parallel(2)) {
            SparseCodes c = AuxK.select(java.nio.FloatBuffer.wrap(pre), rows, cols, dead, 4, par);
            for (int b = 0; b < rows; b++) {
                List<Integer> cand = new ArrayList<>();
                for (int j : dead) {
                    if (pre[b * cols + j] > 0) {
                        cand.add(j);
                    }
                }
                final int row = b;
                cand.sort(Comparator.<Integer>comparingDouble(j -> -pre[row * cols + j]).thenComparingInt(j -> j));
                Set<Integer> want = new HashSet<>(cand.subList(0, Math.min(4, cand.size())));
                Set<Integer> got = new HashSet<>();
                for (int p = c.rowPtr[b]; p < c.rowPtr[b + 1]; p++) {
                    got.add(c.cols[p]);
                }
                assertEquals(want, got, "row " + b);
            }
        }
    }
}
