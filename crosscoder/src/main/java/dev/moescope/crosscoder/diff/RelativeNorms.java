package dev.moescope.crosscoder.diff;

import dev.moescope.core.error.Require;

/**
 * Per-latent comparison of two sources' decoders ({@code dictionaries.md} §1.5 and §3): relative decoder norm
 * {@code r = ‖d^B‖ / (‖d^A‖ + ‖d^B‖)} (Anthropic, ckkissane), Minder's {@code Δ_norm}, the decoder cosine, and the
 * class of each latent.
 *
 * @param sharedLow  r above this (and below {@code sharedHigh}) is shared (ckkissane: 0.3)
 * @param sharedHigh r below this is shared (ckkissane: 0.7)
 * @param specific   r at most {@code 1 − specific} is A-specific, at least {@code specific} is B-specific; the
 *                   default 5/6 is Minder's and the paper code's Δ_norm ≥ 0.9 (the other norm ≤ 0.2 of this one)
 */
public record RelativeNorms(double sharedLow, double sharedHigh, double specific) {

    private static final double EDGE = 1e-12;

    public RelativeNorms {
        Require.that(0 <= sharedLow && sharedLow < 0.5, "shared-low", "in [0, 0.5)", sharedLow);
        Require.that(0.5 < sharedHigh && sharedHigh <= 1, "shared-high", "in (0.5, 1]", sharedHigh);
        Require.that(specific >= sharedHigh && specific <= 1, "specific", "in [shared-high, 1]", specific);
    }

    /** The spec's defaults: shared 0.3 < r < 0.7, specific r ≤ 1/6 or r ≥ 5/6. */
    public static RelativeNorms defaults() {
        return new RelativeNorms(0.3, 0.7, 5.0 / 6.0);
    }

    /** {@code r = ‖b‖/(‖a‖+‖b‖)}; NaN when both are zero. */
    public static double relativeNorm(double normA, double normB) {
        double s = normA + normB;
        return s == 0 ? Double.NaN : normB / s;
    }

    /** Minder's {@code Δ_norm = ½((‖b‖−‖a‖)/max(‖a‖,‖b‖) + 1)}, B playing the "chat" model. */
    public static double deltaNorm(double normA, double normB) {
        double m = Math.max(normA, normB);
        return m == 0 ? Double.NaN : 0.5 * ((normB - normA) / m + 1);
    }

    /** Cosine of two decoder rows; NaN when either is zero. */
    public static double cosine(float[] a, int offA, float[] b, int offB, int width) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int j = 0; j < width; j++) {
            dot += (double) a[offA + j] * b[offB + j];
            na += (double) a[offA + j] * a[offA + j];
            nb += (double) b[offB + j] * b[offB + j];
        }
        return na == 0 || nb == 0 ? Double.NaN : dot / Math.sqrt(na * nb);
    }

    /** Euclidean norm of each of {@code latents} rows of width {@code width}. */
    public static double[] rowNorms(float[] rows, int latents, int width) {
        double[] n = new double[latents];
        for (int i = 0; i < latents; i++) {
            double q = 0;
            for (int j = 0; j < width; j++) {
                q += (double) rows[i * width + j] * rows[i * width + j];
            }
            n[i] = Math.sqrt(q);
        }
        return n;
    }

    /** The class of a latent with relative norm {@code r}; {@code designated} marks the designated shared ones. */
    public LatentClass classify(double r, boolean designated) {
        if (designated) {
            return LatentClass.SHARED_DESIGNATED;
        }
        if (Double.isNaN(r)) {
            return LatentClass.OTHER;
        }
        if (r > sharedLow && r < sharedHigh) {
            return LatentClass.SHARED;
        }
        // a rounding slack so the band edges (r = 1/6 ⇔ Δ_norm = 0.9 exactly) land inside the band
        if (r <= 1 - specific + EDGE) {
            return LatentClass.A_SPECIFIC;
        }
        if (r >= specific - EDGE) {
            return LatentClass.B_SPECIFIC;
        }
        return LatentClass.OTHER;
    }
}
