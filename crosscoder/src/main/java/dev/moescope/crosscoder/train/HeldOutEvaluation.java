package dev.moescope.crosscoder.train;

import dev.moescope.crosscoder.data.PairedSource;
import dev.moescope.sae.dictionary.InputNormalizer;

/**
 * Fraction of variance explained on held-out tokens (rows no training batch reads: held-out documents of paired
 * stores, a held-out draw of a synthetic source), per source and pooled, the paper code's definition
 * ({@code dictionaries.md} §1.4, §3): {@code FVE = 1 − Σ_d Var_b(x − x̂) / Σ_d Var_b(x)}, summed over the
 * source's dimensions, or over every source's for the pooled figure. Computed in normalised units (each source
 * scaled to E‖x‖² = d), so the pooled figure weighs sources by width, not by activation scale. Two encodings:
 * batch top-k (as in training, batches of the training size) and, once estimated, the inference threshold
 * {@code pre·w > θ} (what the spec's FVE target uses).
 */
public final class HeldOutEvaluation {

    private HeldOutEvaluation() {
    }

    /**
     * FVE of one encoding.
     *
     * @param perSource FVE of each source
     * @param pooled    FVE over every source's dimensions
     * @param l0        mean active latents per held-out token
     */
    public record Fve(double[] perSource, double pooled, double l0) {
    }

    /**
     * @param tokens        held-out tokens evaluated (0: the source has none; then the rest is null)
     * @param topK          batch top-k encoding
     * @param threshold     inference-threshold encoding, null while θ is not yet estimated
     * @param deadFraction  share of latents that never fired on the held-out tokens (threshold encoding when there
     *                      is one, else top-k)
     */
    public record Report(long tokens, Fve topK, Fve threshold, Double deadFraction) {
    }

    /** Streams up to {@code maxTokens} held-out rows of {@code source} through {@code cc}. */
    public static Report evaluate(Crosscoder cc, PairedSource source, double[] inputScales, long maxTokens) {
        int[] widths = cc.widths();
        int total = java.util.Arrays.stream(widths).sum();
        boolean withThreshold = cc.threshold() >= 0;
        Moments x = new Moments(total);
        Moments eTop = new Moments(total);
        Moments eThr = new Moments(total);
        long[] firedTop = new long[cc.latents()];
        long[] firedThr = new long[cc.latents()];
        long[] nnz = new long[2];
        long[] tokens = new long[1];
        int batch = cc.config().batchSize();
        source.forEachValidation(batch, maxTokens, (xs, rows) -> {
            for (int s = 0; s < widths.length; s++) {
                InputNormalizer.apply(xs[s], rows * widths[s], inputScales[s]);
            }
            float[] cat = cc.concatenate(xs, rows);
            x.add(cat, null, rows);
            long[] n = new long[1];
            eTop.add(cat, cc.reconstruct(cat, rows, false, firedTop, n), rows);
            nnz[0] += n[0];
            if (withThreshold) {
                eThr.add(cat, cc.reconstruct(cat, rows, true, firedThr, n), rows);
                nnz[1] += n[0];
            }
            tokens[0] += rows;
        });
        if (tokens[0] == 0) {
            return new Report(0, null, null, null);
        }
        long[] fired = withThreshold ? firedThr : firedTop;
        long never = java.util.Arrays.stream(fired).filter(c -> c == 0).count();
        return new Report(tokens[0], fve(x, eTop, widths, (double) nnz[0] / tokens[0]),
                withThreshold ? fve(x, eThr, widths, (double) nnz[1] / tokens[0]) : null,
                (double) never / cc.latents());
    }

    private static Fve fve(Moments x, Moments e, int[] widths, double l0) {
        double[] per = new double[widths.length];
        double num = 0;
        double den = 0;
        int o = 0;
        for (int s = 0; s < widths.length; s++) {
            double n = e.variance(o, o + widths[s]);
            double d = x.variance(o, o + widths[s]);
            per[s] = 1 - n / d;
            num += n;
            den += d;
            o += widths[s];
        }
        return new Fve(per, 1 - num / den, l0);
    }

    /** Per-dimension sums and sums of squares (double) of x, or of x − x̂ when a reconstruction is given. */
    private static final class Moments {
        final double[] sum;
        final double[] sumSq;
        long n;

        Moments(int width) {
            sum = new double[width];
            sumSq = new double[width];
        }

        void add(float[] x, float[] xHat, int rows) {
            int w = sum.length;
            for (int b = 0; b < rows; b++) {
                for (int j = 0; j < w; j++) {
                    double v = xHat == null ? x[b * w + j] : (double) x[b * w + j] - xHat[b * w + j];
                    sum[j] += v;
                    sumSq[j] += v * v;
                }
            }
            n += rows;
        }

        /** Σ_{j in [lo, hi)} Var_b over the rows added. */
        double variance(int lo, int hi) {
            double v = 0;
            for (int j = lo; j < hi; j++) {
                double m = sum[j] / n;
                v += sumSq[j] / n - m * m;
            }
            return v;
        }
    }
}
