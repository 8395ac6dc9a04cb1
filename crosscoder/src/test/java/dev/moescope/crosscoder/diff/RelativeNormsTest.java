package dev.moescope.crosscoder.diff;

import dev.moescope.crosscoder.train.SelectionWeighting;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The relative-norm formulas and class bands of the spec, and the selection weightings' formulas. */
class RelativeNormsTest {

    @Test
    void relativeNormDeltaNormAndTheirBandsAgree() {
        assertEquals(0.5, RelativeNorms.relativeNorm(2, 2), 0);
        assertEquals(0.25, RelativeNorms.relativeNorm(3, 1), 1e-12);
        assertEquals(0.9, RelativeNorms.deltaNorm(1, 5), 1e-12); // ‖a‖ = 0.2‖b‖ ⇔ Δ = 0.9 ⇔ r = 5/6
        assertEquals(5.0 / 6, RelativeNorms.relativeNorm(1, 5), 1e-12);
        RelativeNorms rules = RelativeNorms.defaults();
        assertEquals(LatentClass.B_SPECIFIC, rules.classify(RelativeNorms.relativeNorm(1, 5), false));
        assertEquals(LatentClass.OTHER, rules.classify(RelativeNorms.relativeNorm(1, 4.9), false));
        assertEquals(LatentClass.A_SPECIFIC, rules.classify(RelativeNorms.relativeNorm(5, 1), false));
        assertEquals(LatentClass.SHARED, rules.classify(0.69, false));
        assertEquals(LatentClass.OTHER, rules.classify(0.7, false));
        assertEquals(LatentClass.SHARED_DESIGNATED, rules.classify(0.9, true));
        assertEquals(LatentClass.OTHER, rules.classify(RelativeNorms.relativeNorm(0, 0), false));
    }

    @Test
    void selectionWeightingsFollowTheSpec() {
        double[] norms = {3, 4};
        assertEquals(7f, SelectionWeighting.CROSSCODER.weight(norms), 1e-6);
        assertEquals(5f, SelectionWeighting.SAE.weight(norms), 1e-6);
        assertEquals(0.7f * 5 + 0.3f * 7, SelectionWeighting.MIXED.weight(norms), 1e-5);
        assertEquals(1f, SelectionWeighting.NONE.weight(norms), 0);
    }
}
