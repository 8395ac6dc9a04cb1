package dev.moescope.probe.reproduce;

import dev.moescope.probe.analysis.ConsecutiveRouting;
import dev.moescope.probe.analysis.RoutingAnalysis;

/**
 * Target 5: the random-routing baselines the papers draw, as our analysis code computes them: the uniform share
 * k/E of a top-k specialisation plot and Mixtral's consecutive-token random rates.
 */
final class UniformBaselines {

    private UniformBaselines() {
    }

    static Reproduction run() {
        Reproduction r = new Reproduction(ReproductionTarget.BASELINES);
        Object[][] models = {
            {"DeepSeek-MoE-16B uniform share 6/64 (%)", 64, 6, 9.375, 1e-12, 3},
            {"Qwen1.5-MoE-A2.7B uniform share 4/60 (%)", 60, 4, 6.67, 0.005, 2},
            {"OLMoE-1B-7B uniform share 8/64 (%)", 64, 8, 12.5, 1e-12, 3},
            {"Mixtral-8x7B uniform share 2/8 (%)", 8, 2, 25.0, 1e-12, 3},
        };
        for (Object[] m : models) {
            double share = new RoutingAnalysis((Integer) m[1], (Integer) m[2], 1).summary().uniformShare();
            r.check(Check.within((String) m[0], (Double) m[3], 100 * share, (Double) m[4], (Integer) m[5]));
        }
        ConsecutiveRouting mixtral = new ConsecutiveRouting(8);
        r.check(Check.within("Mixtral consecutive tokens, same first choice at random 1/E (%)", 12.5,
                100 * mixtral.firstChoiceBaseline(), 1e-12, 3));
        r.check(Check.within("Mixtral consecutive tokens, top-2 sets intersect at random (%)", 46.0,
                100 * mixtral.firstOrSecondBaseline(), 0.5, 2));
        r.note("The paper values are the dashed lines of the MoE Lens (k/E), OLMoE (k/E) and Mixtral (Table 5) "
                + "figures; Qwen's 6.67 % is printed to two decimals. Mixtral's \"first or second choice\" random "
                + "rate is 1 − C(6,2)/C(8,2) = 46.4 %, which the paper rounds to 46 %.");
        return r;
    }
}
