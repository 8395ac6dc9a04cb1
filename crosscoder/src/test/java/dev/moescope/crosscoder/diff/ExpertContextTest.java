package dev.moescope.crosscoder.diff;

import dev.moescope.sae.dictionary.SparseCodes;
import dev.moescope.store.RoutingColumns;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * {@link ExpertContext} on hand-made routing: a latent that fires on every token is routed like the base (KL 0); one
 * that fires only where expert 2 was chosen has share 1 on expert 2 and the KL of that distribution.
 */
class ExpertContextTest {

    @Test
    void sharesBaseRatesAndKlFollowTheRouting() {
        // 4 tokens, top-2 of 4 experts; store rows 10..13 (routing read from row 10)
        int[] ids = {0, 2, 1, 2, 0, 1, 3, 0};
        RoutingColumns routing = new RoutingColumns(2, 2, 10, ids, new float[8]);
        // latent 0 fires everywhere, latent 1 on tokens 0 and 1 (both routed to expert 2), latent 2 never
        int[] rowPtr = {0, 2, 4, 5, 6};
        int[] cols = {0, 1, 0, 1, 0, 0};
        float[] vals = {1, 1, 1, 1, 1, 1};
        SparseCodes codes = new SparseCodes(4, 3, rowPtr, cols, vals);
        ExpertContext e = new ExpertContext(2, 4, 3);
        e.add(codes, new long[]{10, 11, 12, 13}, routing);
        assertArrayEquals(new double[]{0.75, 0.5, 0.5, 0.25}, e.baseRates(), 1e-12);
        ExpertContext.Profile all = e.profile(0, 4);
        assertEquals(0.0, all.klBits(), 1e-12);
        assertEquals(4, all.fires());
        ExpertContext.Profile two = e.profile(1, 2);
        assertEquals(2, two.topExperts()[0]);
        assertEquals(1.0, two.shares()[0], 1e-12);
        assertEquals(0.5, two.baseRates()[0], 1e-12);
        // p = (e0 .25, e1 .25, e2 .5), q = (e0 .375, e1 .25, e2 .25, e3 .125)
        double kl = 0.25 * log2(0.25 / 0.375) + 0.25 * log2(0.25 / 0.25) + 0.5 * log2(0.5 / 0.25);
        assertEquals(kl, two.klBits(), 1e-12);
        assertNull(e.profile(2, 1));
    }

    private static double log2(double v) {
        return Math.log(v) / Math.log(2);
    }
}
