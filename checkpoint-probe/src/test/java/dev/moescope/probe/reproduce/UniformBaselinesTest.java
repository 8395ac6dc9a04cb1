package dev.moescope.probe.reproduce;

import dev.moescope.probe.analysis.RoutingAnalysis;
import dev.moescope.probe.analysis.TokenRouting;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Target 5: the baselines as the reproduction reports them, and uniformly random routing fed through the analyses
 * landing on them (shares at k/E, same-first-choice rate at 1/E, top-2 intersection at 1 − C(E−2,2)/C(E,2)).
 */
class UniformBaselinesTest {

    @Test
    void reportedBaselinesAreMet() {
        Reproduction r = ReproductionTarget.BASELINES.run(null, null);
        assertEquals(6, r.checks().size());
        assertEquals(0, r.unmet(), r.markdown());
        assertEquals("6.67", r.checks().get(1).ours());
        assertEquals("46.43", r.checks().get(5).ours());
    }

    @Test
    void randomRoutingLandsOnTheBaselines() {
        int e = 8;
        int k = 2;
        int tokens = 200_000;
        RoutingAnalysis a = new RoutingAnalysis(e, k, 1);
        Random rnd = new Random(7);
        for (int t = 0; t < tokens; t++) {
            int first = rnd.nextInt(e);
            int second = (first + 1 + rnd.nextInt(e - 1)) % e;
            a.accept(TokenRouting.of(0, new int[]{first, second}, "d", 1, 0, t));
        }
        RoutingAnalysis.Summary s = a.summary();
        assertEquals(0.25, s.uniformShare());
        for (int x = 0; x < e; x++) {
            assertEquals(0.25, a.load(0).share(x), 0.005); // 5 sigma of a binomial share over 200k tokens
        }
        RoutingAnalysis.Consecutive c = s.layers().get(0).consecutive();
        assertEquals(tokens - 1, c.pairs());
        assertEquals(c.firstChoiceRandom(), c.firstChoice(), 0.004);
        assertEquals(c.firstOrSecondRandom(), c.firstOrSecond(), 0.006);
        assertEquals(0.125, c.firstChoiceRandom());
    }
}
