package dev.moescope.toy;

import dev.moescope.toy.metrics.AnalyticPhase;
import dev.moescope.toy.metrics.AnalyticPhase.FeatureClass;
import dev.moescope.toy.metrics.PhaseMap;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The exact n=2, m=1 and n=3, m=2 phase boundaries, and the expected-loss formulas they come from. */
class AnalyticPhaseTest {

    @Test
    void boundaryValuesMatchTheClosedForm() {
        double[] r = {0.1, 0.25, 0.5, 1, 2, 4, 10};
        double[] s = {0.16, 0.3077, 0.4444, 0.5714, 0.4444, 0.3077, 0.16};
        for (int i = 0; i < r.length; i++) {
            assertEquals(s[i], AnalyticPhase.criticalDensityN2M1(r[i]), 1e-4, "r=" + r[i]);
        }
        assertEquals(4.0 / 7, AnalyticPhase.criticalDensityN2M1(1), 1e-12);
        assertEquals(0.16, AnalyticPhase.criticalDensityN2M1(0.1), 1e-12);
        assertEquals(0.16, AnalyticPhase.criticalDensityN2M1(10), 1e-12);
    }

    @Test
    void boundaryIsWhereTheLossesCross() {
        // r ≤ 1: superposition (1+r)s²/6 vs ignoring the last feature r(s/3 − s²/4)
        for (double r : new double[] {0.1, 0.3, 0.7, 1.0}) {
            double s = AnalyticPhase.criticalDensityN2M1(r);
            assertEquals(r * AnalyticPhase.lossIgnore(s), AnalyticPhase.lossAntipodalLast(r, s), 1e-12);
        }
        // r ≥ 1: superposition vs ignoring the weight-1 feature
        for (double r : new double[] {1.0, 2.5, 7}) {
            double s = AnalyticPhase.criticalDensityN2M1(r);
            assertEquals(AnalyticPhase.lossIgnore(s), AnalyticPhase.lossAntipodalLast(r, s), 1e-12);
        }
    }

    @Test
    void classesOnEachSide() {
        assertEquals(FeatureClass.SUPERPOSED, AnalyticPhase.classifyN2M1(1, 0.5));
        assertEquals(FeatureClass.NOT_REPRESENTED, AnalyticPhase.classifyN2M1(0.5, 0.5));
        assertEquals(FeatureClass.DEDICATED, AnalyticPhase.classifyN2M1(2, 0.5));
        assertEquals(FeatureClass.DEDICATED, AnalyticPhase.classifyN3M2(2, 0.01));
        assertEquals(FeatureClass.SUPERPOSED, AnalyticPhase.classifyN3M2(0.5, 0.2));
        assertEquals(FeatureClass.NOT_REPRESENTED, AnalyticPhase.classifyN3M2(0.5, 0.5));
    }

    @Test
    void expectedLossFormulasHoldToMonteCarloAccuracy() {
        SplittableRandom rnd = new SplittableRandom(7);
        double s = 0.3;
        int samples = 1_000_000;
        double ignore = 0;
        double antipodal = 0;
        for (int t = 0; t < samples; t++) {
            double x1 = rnd.nextDouble() < s ? rnd.nextDouble() : 0;
            double x2 = rnd.nextDouble() < s ? rnd.nextDouble() : 0;
            ignore += (x1 - s / 2) * (x1 - s / 2);
            // W = [1, −1], b = 0: x' = ReLU(±(x1 − x2))
            double y1 = Math.max(0, x1 - x2);
            double y2 = Math.max(0, x2 - x1);
            antipodal += (x1 - y1) * (x1 - y1) + (x2 - y2) * (x2 - y2);
        }
        assertEquals(AnalyticPhase.lossIgnore(s), ignore / samples, 0.01 * AnalyticPhase.lossIgnore(s));
        assertEquals(AnalyticPhase.lossAntipodal(s), antipodal / samples, 0.01 * AnalyticPhase.lossAntipodal(s));
    }

    @Test
    void roughnessCountsDisagreeingNeighbours() {
        FeatureClass a = FeatureClass.DEDICATED;
        FeatureClass b = FeatureClass.SUPERPOSED;
        assertEquals(0.0, PhaseMap.roughness(new FeatureClass[][] {{a, a}, {a, a}}));
        // 4 adjacent pairs, the two touching the odd cell differ
        assertEquals(0.5, PhaseMap.roughness(new FeatureClass[][] {{a, a}, {a, b}}));
        double[] sp = {0.1, 0.5, 0.9};
        double[] imp = {0.5, 2};
        FeatureClass[][] g = PhaseMap.analytic(2, 1, sp, imp);
        assertEquals(FeatureClass.SUPERPOSED, g[2][0]); // s = 0.1 < 0.4444·… at r=0.5
        assertEquals(FeatureClass.DEDICATED, g[0][1]);   // s = 0.9 at r=2
    }
}
