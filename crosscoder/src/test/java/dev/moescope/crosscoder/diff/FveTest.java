package dev.moescope.crosscoder.diff;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link Fve} against the definition computed directly, over batches of different sizes and two sources. */
class FveTest {

    @Test
    void matchesTheDefinitionPerSourceAndPooled() {
        Random r = new Random(3);
        int[] widths = {3, 5};
        int rows = 101;
        float[][] x = new float[2][];
        float[][] xhat = new float[2][];
        for (int s = 0; s < 2; s++) {
            x[s] = new float[rows * widths[s]];
            xhat[s] = new float[rows * widths[s]];
            for (int i = 0; i < x[s].length; i++) {
                x[s][i] = (float) (r.nextGaussian() * (1 + s) + 2); // a mean, so centring matters
                xhat[s][i] = x[s][i] + (float) (0.3 * r.nextGaussian());
            }
        }
        Fve f = new Fve(widths);
        for (int start = 0; start < rows; start += 40) { // batches of 40, 40, 21
            int n = Math.min(40, rows - start);
            for (int s = 0; s < 2; s++) {
                int d = widths[s];
                f.add(s, java.util.Arrays.copyOfRange(x[s], start * d, (start + n) * d),
                        java.util.Arrays.copyOfRange(xhat[s], start * d, (start + n) * d), n);
            }
        }
        double vxAll = 0;
        double veAll = 0;
        for (int s = 0; s < 2; s++) {
            double vx = 0;
            double ve = 0;
            for (int j = 0; j < widths[s]; j++) {
                double mx = 0;
                double me = 0;
                for (int b = 0; b < rows; b++) {
                    mx += x[s][b * widths[s] + j];
                    me += x[s][b * widths[s] + j] - xhat[s][b * widths[s] + j];
                }
                mx /= rows;
                me /= rows;
                for (int b = 0; b < rows; b++) {
                    double xv = x[s][b * widths[s] + j];
                    double e = xv - xhat[s][b * widths[s] + j];
                    vx += (xv - mx) * (xv - mx);
                    ve += (e - me) * (e - me);
                }
            }
            assertEquals(1 - ve / vx, f.of(s), 1e-9, "source " + s);
            vxAll += vx;
            veAll += ve;
        }
        assertEquals(1 - veAll / vxAll, f.pooled(), 1e-9);
        assertEquals(rows, f.rows());
    }

    @Test
    void perfectReconstructionIsOneAndTheMeanIsZero() {
        float[] x = {1, 2, 3, 4, 5, 6};
        Fve perfect = new Fve(new int[]{2});
        perfect.add(0, x, x.clone(), 3);
        assertEquals(1.0, perfect.pooled(), 1e-12);
        Fve mean = new Fve(new int[]{2});
        mean.add(0, x, new float[]{3, 4, 3, 4, 3, 4}, 3);
        assertEquals(0.0, mean.pooled(), 1e-12);
    }
}
