package dev.moescope.sae.eval;

/**
 * How well a learned dictionary recovers a known one: for each true unit direction, the best cosine similarity
 * with any learned decoder row; a direction counts as recovered at cosine ≥ {@code cutoff}.
 */
public final class Recovery {

    private Recovery() {
    }

    /**
     * @param fractionRecovered share of true directions with best cosine ≥ cutoff
     * @param meanMaxCosine     mean over true directions of the best cosine
     * @param maxCosines        the best cosine of each true direction
     */
    public record Result(double fractionRecovered, double meanMaxCosine, double[] maxCosines) {
    }

    /** {@code truth} is {@code nTrue x width}, {@code learned} is {@code nLearned x width}; rows need not be unit. */
    public static Result of(float[] truth, float[] learned, int nTrue, int nLearned, int width, double cutoff) {
        double[] learnedNorm = new double[nLearned];
        for (int i = 0; i < nLearned; i++) {
            double s = 0;
            for (int j = 0; j < width; j++) {
                s += (double) learned[i * width + j] * learned[i * width + j];
            }
            learnedNorm[i] = Math.sqrt(s);
        }
        double[] best = new double[nTrue];
        int recovered = 0;
        double sum = 0;
        for (int t = 0; t < nTrue; t++) {
            double tn = 0;
            for (int j = 0; j < width; j++) {
                tn += (double) truth[t * width + j] * truth[t * width + j];
            }
            tn = Math.sqrt(tn);
            double m = -1;
            for (int i = 0; i < nLearned; i++) {
                double dot = 0;
                for (int j = 0; j < width; j++) {
                    dot += (double) truth[t * width + j] * learned[i * width + j];
                }
                double c = learnedNorm[i] > 0 && tn > 0 ? dot / (learnedNorm[i] * tn) : 0;
                m = Math.max(m, c);
            }
            best[t] = m;
            sum += m;
            if (m >= cutoff) {
                recovered++;
            }
        }
        return new Result((double) recovered / nTrue, sum / nTrue, best);
    }
}
