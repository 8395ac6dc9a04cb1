package dev.moescope.crosscoder.data;

import dev.moescope.core.Seeds;
import dev.moescope.core.error.Require;
import dev.moescope.sae.dictionary.DecoderNorm;
import dev.moescope.sae.dictionary.Parallel;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Two sources generated from known dictionaries, for testing that a crosscoder recovers them. There are
 * {@code shared + onlyA + onlyB} ground-truth features; feature i fires independently on each token with
 * probability {@code p} and magnitude uniform in [0.5, 1.5]. Source A is {@code Σ f_i a_i} over the shared and
 * A-only features, source B {@code Σ f_i b_i} over the shared and B-only features, where {@code a_i} and
 * {@code b_i} are independent random unit directions (the two models represent a shared concept differently). So a
 * shared feature has decoder norm in both sources and an A-only feature in A only. Features are numbered shared
 * first, then A-only, then B-only.
 */
public final class SyntheticPairSource implements PairedSource {

    /** The class of a ground-truth feature. */
    public enum Truth { SHARED, ONLY_A, ONLY_B }

    private final int width;
    private final int shared;
    private final int onlyA;
    private final int onlyB;
    private final double p;
    private final long seed;
    private final float[] dictA;
    private final float[] dictB;

    public SyntheticPairSource(int width, int shared, int onlyA, int onlyB, double p, long seed) {
        Require.positive("width", width);
        Require.that(shared >= 0 && onlyA >= 0 && onlyB >= 0, "features", "non-negative",
                shared + "/" + onlyA + "/" + onlyB);
        Require.inHalfOpen("p", p, 0, 1);
        this.width = width;
        this.shared = shared;
        this.onlyA = onlyA;
        this.onlyB = onlyB;
        this.p = p;
        this.seed = seed;
        int n = features();
        this.dictA = randomRows(n, width, Seeds.random(seed, "synthetic dictionary A"));
        this.dictB = randomRows(n, width, Seeds.random(seed, "synthetic dictionary B"));
        // a feature absent from a source has a zero row there
        java.util.Arrays.fill(dictA, (shared + onlyA) * width, n * width, 0f);
        java.util.Arrays.fill(dictB, shared * width, (shared + onlyA) * width, 0f);
    }

    private static float[] randomRows(int rows, int width, SplittableRandom r) {
        float[] v = new float[rows * width];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        try (Parallel par = new Parallel(1)) {
            DecoderNorm.normalizeRows(v, rows, width, par);
        }
        return v;
    }

    /** Ground-truth feature count. */
    public int features() {
        return shared + onlyA + onlyB;
    }

    public Truth truth(int feature) {
        return feature < shared ? Truth.SHARED : feature < shared + onlyA ? Truth.ONLY_A : Truth.ONLY_B;
    }

    /** The true direction of {@code feature} in source {@code s} (0 = A, 1 = B); zero where it is absent. */
    public float[] direction(int s, int feature) {
        float[] d = s == 0 ? dictA : dictB;
        return java.util.Arrays.copyOfRange(d, feature * width, (feature + 1) * width);
    }

    @Override
    public int[] widths() {
        return new int[]{width, width};
    }

    @Override
    public List<String> names() {
        return List.of("synthetic A", "synthetic B");
    }

    @Override
    public Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("source", "synthetic pair");
        m.put("width", Integer.toString(width));
        m.put("shared", Integer.toString(shared));
        m.put("only_a", Integer.toString(onlyA));
        m.put("only_b", Integer.toString(onlyB));
        m.put("p", Double.toString(p));
        m.put("seed", Long.toString(seed));
        return m;
    }

    @Override
    public float[][] trainBatch(long index, int rows) {
        return draw(Seeds.random(seed, "synthetic batch " + index), rows);
    }

    /** A held-out draw: rows from the same distribution under a seed purpose no training batch uses. */
    @Override
    public void forEachValidation(int rows, long maxRows, BatchConsumer consumer) {
        long seen = 0;
        for (int i = 0; seen < maxRows; i++) {
            int n = (int) Math.min(rows, maxRows - seen);
            consumer.accept(draw(Seeds.random(seed, "synthetic validation batch " + i), n), n);
            seen += n;
        }
    }

    private float[][] draw(SplittableRandom r, int rows) {
        float[] a = new float[rows * width];
        float[] b = new float[rows * width];
        int n = features();
        for (int row = 0; row < rows; row++) {
            for (int i = 0; i < n; i++) {
                if (r.nextDouble() >= p) {
                    continue;
                }
                float f = (float) (0.5 + r.nextDouble());
                for (int j = 0; j < width; j++) {
                    a[row * width + j] += f * dictA[i * width + j];
                    b[row * width + j] += f * dictB[i * width + j];
                }
            }
        }
        return new float[][]{a, b};
    }
}
