package dev.moescope.sae.data;

import dev.moescope.core.Seeds;
import dev.moescope.core.error.Require;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Synthetic activations with a known answer: each row is a sparse non-negative combination of {@code features}
 * random unit vectors in {@code width} dimensions (on average {@code activePerRow} of them, magnitudes uniform in
 * [0.5, 1.5)), plus isotropic Gaussian noise of standard deviation {@code noise} per dimension. The ground-truth
 * dictionary is kept so training can be scored by how many true directions it recovers. Everything is derived from
 * {@code seed}: training batch {@code i} is the same in every run. Documents are blocks of 64 consecutive rows;
 * validation rows come from documents of their own.
 */
public final class SyntheticSource implements ActivationSource {

    /** Rows per synthetic "document". */
    public static final int DOCUMENT_ROWS = 64;

    /**
     * @param width          activation width d
     * @param features       number of true directions
     * @param activePerRow   mean number of active directions per row
     * @param noise          Gaussian noise standard deviation per dimension
     * @param validationRows held-out rows
     * @param seed           the seed everything derives from
     */
    public record Spec(int width, int features, double activePerRow, double noise, int validationRows, long seed) {
        public Spec {
            Require.positive("synthetic width", width);
            Require.positive("synthetic features", features);
            Require.positive("synthetic active", activePerRow);
            Require.that(activePerRow <= features, "synthetic active", "at most the feature count " + features,
                    activePerRow);
            Require.nonNegative("synthetic noise", noise);
            Require.positive("synthetic validation rows", validationRows);
        }

        public Map<String, String> describe() {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("source", "synthetic");
            m.put("synthetic.width", Integer.toString(width));
            m.put("synthetic.features", Integer.toString(features));
            m.put("synthetic.active", Double.toString(activePerRow));
            m.put("synthetic.noise", Double.toString(noise));
            m.put("synthetic.validation_rows", Integer.toString(validationRows));
            m.put("synthetic.seed", Long.toString(seed));
            return m;
        }

        /** The spec recorded by {@link #describe()}. */
        public static Spec from(Map<String, String> m) {
            return new Spec(Integer.parseInt(m.get("synthetic.width")), Integer.parseInt(m.get("synthetic.features")),
                    Double.parseDouble(m.get("synthetic.active")), Double.parseDouble(m.get("synthetic.noise")),
                    Integer.parseInt(m.get("synthetic.validation_rows")), Long.parseLong(m.get("synthetic.seed")));
        }
    }

    private static final long VALIDATION_ROW_OFFSET = 1L << 48;

    private final Spec spec;
    private final float[] truth;

    public SyntheticSource(Spec spec) {
        this.spec = spec;
        this.truth = new float[spec.features() * spec.width()];
        SplittableRandom r = Seeds.random(spec.seed(), "synthetic dictionary");
        int d = spec.width();
        for (int i = 0; i < spec.features(); i++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                float g = (float) r.nextGaussian();
                truth[i * d + j] = g;
                s += (double) g * g;
            }
            float inv = (float) (1 / Math.sqrt(s));
            for (int j = 0; j < d; j++) {
                truth[i * d + j] *= inv;
            }
        }
    }

    public Spec spec() {
        return spec;
    }

    /** The true dictionary: {@code features x width}, unit rows. */
    public float[] groundTruth() {
        return truth.clone();
    }

    @Override
    public int width() {
        return spec.width();
    }

    @Override
    public String name() {
        return "synthetic";
    }

    @Override
    public Map<String, String> describe() {
        return spec.describe();
    }

    @Override
    public long trainRows() {
        return -1;
    }

    @Override
    public long validationRows() {
        return spec.validationRows();
    }

    @Override
    public ActivationBatch trainBatch(long index, int rows) {
        SplittableRandom r = new SplittableRandom(Seeds.derive(spec.seed(), "synthetic train batch " + index));
        return generate(r, rows, index * rows);
    }

    @Override
    public void forEachValidation(int rows, Consumer<ActivationBatch> consumer) {
        SplittableRandom r = Seeds.random(spec.seed(), "synthetic validation");
        for (int start = 0; start < spec.validationRows(); start += rows) {
            int n = Math.min(rows, spec.validationRows() - start);
            consumer.accept(generate(r, n, VALIDATION_ROW_OFFSET + start));
        }
    }

    private ActivationBatch generate(SplittableRandom r, int rows, long firstRow) {
        int d = spec.width();
        float[] x = new float[rows * d];
        long[] ids = new long[rows];
        long[] docs = new long[rows];
        double lambda = Math.exp(-spec.activePerRow());
        float noise = (float) spec.noise();
        for (int b = 0; b < rows; b++) {
            ids[b] = firstRow + b;
            docs[b] = ids[b] / DOCUMENT_ROWS;
            // Poisson count of active directions (Knuth), capped at the dictionary size
            int m = 0;
            double p = r.nextDouble();
            while (p > lambda && m < spec.features()) {
                m++;
                p *= r.nextDouble();
            }
            int o = b * d;
            for (int a = 0; a < m; a++) {
                int i = r.nextInt(spec.features());
                float mag = (float) (0.5 + r.nextDouble());
                int t = i * d;
                for (int j = 0; j < d; j++) {
                    x[o + j] += mag * truth[t + j];
                }
            }
            if (noise > 0) {
                for (int j = 0; j < d; j++) {
                    x[o + j] += noise * (float) r.nextGaussian();
                }
            }
        }
        return new ActivationBatch(x, rows, d, ids, docs);
    }
}
