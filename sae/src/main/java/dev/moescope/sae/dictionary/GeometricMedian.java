package dev.moescope.sae.dictionary;

/**
 * Decoder-bias initialisation from data: the geometric median (Weiszfeld iterations, at most 100, stopping when
 * the update moves less than {@code 1e-5} relative, as dictionary_learning) or the mean (sparsify).
 */
public final class GeometricMedian {

    private GeometricMedian() {
    }

    public static float[] mean(float[] x, int rows, int width) {
        double[] m = new double[width];
        for (int b = 0; b < rows; b++) {
            for (int j = 0; j < width; j++) {
                m[j] += x[b * width + j];
            }
        }
        float[] out = new float[width];
        for (int j = 0; j < width; j++) {
            out[j] = (float) (m[j] / rows);
        }
        return out;
    }

    public static float[] of(float[] x, int rows, int width) {
        double[] y = new double[width];
        float[] start = mean(x, rows, width);
        for (int j = 0; j < width; j++) {
            y[j] = start[j];
        }
        for (int it = 0; it < 100; it++) {
            double[] num = new double[width];
            double den = 0;
            for (int b = 0; b < rows; b++) {
                double dist = 0;
                for (int j = 0; j < width; j++) {
                    double diff = x[b * width + j] - y[j];
                    dist += diff * diff;
                }
                double w = 1.0 / Math.max(Math.sqrt(dist), 1e-8);
                den += w;
                for (int j = 0; j < width; j++) {
                    num[j] += w * x[b * width + j];
                }
            }
            double move = 0;
            double norm = 0;
            for (int j = 0; j < width; j++) {
                double next = num[j] / den;
                move += (next - y[j]) * (next - y[j]);
                norm += next * next;
                y[j] = next;
            }
            if (Math.sqrt(move) <= 1e-5 * Math.max(1e-12, Math.sqrt(norm))) {
                break;
            }
        }
        float[] out = new float[width];
        for (int j = 0; j < width; j++) {
            out[j] = (float) y[j];
        }
        return out;
    }
}
