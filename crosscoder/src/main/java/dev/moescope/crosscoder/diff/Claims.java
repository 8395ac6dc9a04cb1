package dev.moescope.crosscoder.diff;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The paper's claims ("Sparse Crosscoders for diffing MoEs and Dense models", {@code dictionaries.md} §1.1 and §6)
 * checked against one diff: what the paper says, what this run measured, and whether the run supports it
 * ({@code null} when the run cannot test it, e.g. no latent of a class needed for the comparison).
 */
public final class Claims {

    /** FVE pass band of the spec (§6 claim 1: "~87%"). */
    public static final double FVE_LOW = 0.85;
    public static final double FVE_HIGH = 0.89;

    /** One claim: the shared convention of {@code summary.json} ({@code claim, expected, measured, supported}). */
    public record Claim(String claim, String expected, String measured, Boolean supported) {
    }

    private Claims() {
    }

    public static List<Claim> evaluate(ModelDiff.Result r, Map<LatentClass, ClassStats> stats) {
        List<Claim> out = new ArrayList<>();
        ModelDiff.Reconstruction rec = r.reconstruction();
        String moe = r.sourceModels().get(r.moeSource());
        String dense = r.sourceModels().get(1 - r.moeSource());
        double fve = rec.fvePooledThreshold();
        out.add(new Claim("A BatchTopK crosscoder with designated shared latents explains about 87% of the variance "
                + "of the paired activations (pooled FVE)",
                String.format("pooled FVE in [%.2f, %.2f]", FVE_LOW, FVE_HIGH),
                String.format("pooled FVE %.4f (%s) on %d tokens; per source %s %.4f, %s %.4f; batch top-k %.4f",
                        fve, r.thresholdUsed() ? "inference threshold" : "batch top-k: no threshold estimated",
                        r.activity().tokens(), r.sourceModels().get(0), rec.fveThreshold()[0],
                        r.sourceModels().get(1), rec.fveThreshold()[1], rec.fvePooledBatchTopK()),
                Double.isNaN(fve) ? null : fve >= FVE_LOW && fve <= FVE_HIGH));

        int nMoe = stats.get(r.moeSpecific()).latents();
        int nDense = stats.get(r.denseSpecific()).latents();
        int[] bands = bandCounts(r);
        RelativeNorms rules = r.options().rules();
        double p = signTest(nMoe, nMoe + nDense);
        out.add(new Claim("The MoE learns fewer unique (model-specific) latents than the dense model",
                "MoE-specific < dense-specific, significantly (one-sided sign test p < 0.05)",
                String.format("MoE-specific (%s) %d vs dense-specific (%s) %d of %d latents at r <= %.3f / r >= %.3f"
                                + " (sign test p = %.3g); at the %.1f/%.1f bands %d vs %d",
                        moe, nMoe, dense, nDense, r.decoders().r().length, 1 - rules.specific(), rules.specific(), p,
                        rules.sharedLow(), rules.sharedHigh(), bands[r.moeSource()], bands[1 - r.moeSource()]),
                nMoe == 0 && nDense == 0 ? null : nMoe < nDense && p < 0.05));

        ClassStats sMoe = stats.get(r.moeSpecific());
        ClassStats sDense = stats.get(r.denseSpecific());
        double shared = sharedMedian(r);
        double mMoe = sMoe.densityMedian();
        double mDense = sDense.densityMedian();
        Boolean ordered = Double.isNaN(mMoe) || Double.isNaN(shared) || Double.isNaN(mDense) ? null
                : mMoe > shared && shared > mDense;
        out.add(new Claim("MoE-specific latents are denser than shared latents, and dense-specific latents sparser",
                "median density MoE-specific > shared > dense-specific",
                String.format("median density MoE-specific %s (%d live), shared %s (designated %s, emergent %s), "
                                + "dense-specific %s (%d live)",
                        fmt(mMoe), sMoe.live(), fmt(shared), fmt(stats.get(LatentClass.SHARED_DESIGNATED).densityMedian()),
                        fmt(stats.get(LatentClass.SHARED).densityMedian()), fmt(mDense), sDense.live()),
                ordered));

        int n = r.run().shared();
        int exact = 0;
        for (int i = 0; i < n; i++) {
            if (r.decoders().r()[i] == 0.5 && r.decoders().cosine()[i] == 1.0) {
                exact++;
            }
        }
        out.add(new Claim("Designated shared latents have relative decoder norm 0.5 and decoder cosine 1 exactly "
                + "(tied decoders)",
                "r = 0.5 and cos = 1 for every designated latent",
                n == 0 ? "no designated shared latents (--shared 0)"
                        : exact + " of " + n + " designated latents exactly at r = 0.5, cos = 1",
                n == 0 ? null : exact == n));
        return out;
    }

    /**
     * One-sided sign test: the probability of at most {@code k} of {@code n} specific latents falling on one side
     * when each side is equally likely ({@code P(X <= k)}, X ~ Binomial(n, 1/2)); 1 when n = 0.
     */
    static double signTest(int k, int n) {
        double logHalf = n * Math.log(0.5);
        double sum = 0;
        double logChoose = 0; // log C(n, 0)
        for (int i = 0; i <= k; i++) {
            if (i > 0) {
                logChoose += Math.log(n - i + 1) - Math.log(i);
            }
            sum += Math.exp(logChoose + logHalf);
        }
        return Math.min(1, sum);
    }

    /** Latents (excluding designated) with r below the shared band [0] and above it [1]. */
    static int[] bandCounts(ModelDiff.Result r) {
        int[] c = new int[2];
        double[] rel = r.decoders().r();
        for (int i = r.run().shared(); i < rel.length; i++) {
            if (rel[i] <= r.options().rules().sharedLow()) {
                c[0]++;
            } else if (rel[i] >= r.options().rules().sharedHigh()) {
                c[1]++;
            }
        }
        return c;
    }

    /** Median density of the live designated and emergent shared latents together. */
    static double sharedMedian(ModelDiff.Result r) {
        LatentClass[] cls = r.decoders().classes();
        double[] v = new double[cls.length];
        int n = 0;
        for (int i = 0; i < cls.length; i++) {
            if ((cls[i] == LatentClass.SHARED || cls[i] == LatentClass.SHARED_DESIGNATED)
                    && r.activity().fires()[i] > 0) {
                v[n++] = r.activity().density(i);
            }
        }
        double[] s = java.util.Arrays.copyOf(v, n);
        java.util.Arrays.sort(s);
        return ClassStats.quantile(s, 0.5);
    }

    static String fmt(double v) {
        return Double.isNaN(v) ? "n/a" : String.format("%.4g", v);
    }
}
