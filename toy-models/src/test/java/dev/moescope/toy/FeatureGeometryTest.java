package dev.moescope.toy;

import dev.moescope.toy.metrics.FeatureGeometry;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Dimensionality, superposition and features per dimension on matrices with known geometry. */
class FeatureGeometryTest {

    @Test
    void dedicatedFeaturesHaveDimensionOneAndSumToM() {
        float[][] w = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 0, 0}};
        double[] d = FeatureGeometry.dimensionality(w);
        assertEquals(1, d[0], 1e-9);
        assertEquals(0, d[3], 1e-9);
        assertEquals(3, FeatureGeometry.dimensionalitySum(w), 1e-9);
        assertEquals(0, FeatureGeometry.superposition(w)[0], 1e-9);
        assertEquals(1.0, FeatureGeometry.featuresPerDimension(w), 1e-9);
    }

    @Test
    void antipodalPairsHaveHalfADimensionEach() {
        float[][] w = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
        for (double d : FeatureGeometry.dimensionality(w)) {
            assertEquals(0.5, d, 1e-9);
        }
        assertEquals(2, FeatureGeometry.dimensionalitySum(w), 1e-9);
        assertEquals(1, FeatureGeometry.superposition(w)[0], 1e-4);
        assertEquals(2.0, FeatureGeometry.featuresPerDimension(w), 1e-9);
    }

    @Test
    void pentagonHasTwoFifthsPerFeatureAndSaturatesTwoDimensions() {
        float[][] w = new float[5][2];
        for (int i = 0; i < 5; i++) {
            w[i][0] = (float) Math.cos(2 * Math.PI * i / 5);
            w[i][1] = (float) Math.sin(2 * Math.PI * i / 5);
        }
        for (double d : FeatureGeometry.dimensionality(w)) {
            assertEquals(0.4, d, 1e-6);
        }
        assertEquals(2, FeatureGeometry.dimensionalitySum(w), 1e-5);
    }

    @Test
    void selfInclusiveScoreAddsTheSquaredNorm() {
        float[][] w = {{2, 0}, {0, 1}};
        assertEquals(4, FeatureGeometry.selfInclusiveInterference(w, 0), 1e-4);
        assertEquals(0, FeatureGeometry.squaredInterference(w, 0), 1e-9);
    }
}
