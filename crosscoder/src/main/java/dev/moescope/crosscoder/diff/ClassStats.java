package dev.moescope.crosscoder.diff;

import dev.moescope.sae.eval.Density;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * Aggregates of one latent class: how many, how many dead, the distribution of activation densities of its live
 * latents (median, quartiles, and sae's log10 {@link Density} histogram, so every class shares the same bins),
 * decoder cosines and, with routing, the expert concentration of latents that fired at least
 * {@link ExpertContext#MIN_FIRES} times.
 *
 * @param latents              latents in the class
 * @param dead                 of those, never fired on the evaluated tokens
 * @param densityMedian        median density of the live latents (NaN if none)
 * @param densityQ25           first quartile
 * @param densityQ75           third quartile
 * @param density              log10 histogram (bins shared by every class of a diff); null for an empty class
 * @param cosineMedian         median decoder cosine between the two sources (NaN where undefined)
 * @param expertKlMedianBits   median expert concentration (KL from the base rate, bits), NaN without routing
 * @param expertKlLatents      latents the KL median is over
 */
public record ClassStats(int latents, int dead, double densityMedian, double densityQ25, double densityQ75,
                         Density density, double cosineMedian, double expertKlMedianBits, int expertKlLatents) {

    /** Stats of every class of {@code r}. */
    public static Map<LatentClass, ClassStats> of(ModelDiff.Result r) {
        Map<LatentClass, ClassStats> out = new EnumMap<>(LatentClass.class);
        for (LatentClass c : LatentClass.values()) {
            out.put(c, of(r, c));
        }
        return out;
    }

    /** Stats of the latents of class {@code c}. */
    public static ClassStats of(ModelDiff.Result r, LatentClass c) {
        ModelDiff.Activity a = r.activity();
        LatentClass[] cls = r.decoders().classes();
        int n = 0;
        for (LatentClass x : cls) {
            if (x == c) {
                n++;
            }
        }
        long[] fires = new long[n];
        double[] live = new double[n];
        double[] cos = new double[n];
        double[] kl = new double[n];
        int nLive = 0;
        int nCos = 0;
        int nKl = 0;
        int j = 0;
        for (int i = 0; i < cls.length; i++) {
            if (cls[i] != c) {
                continue;
            }
            fires[j++] = a.fires()[i];
            if (a.fires()[i] > 0) {
                live[nLive++] = a.density(i);
            }
            if (!Double.isNaN(r.decoders().cosine()[i])) {
                cos[nCos++] = r.decoders().cosine()[i];
            }
            if (r.experts() != null && a.fires()[i] >= ExpertContext.MIN_FIRES) {
                kl[nKl++] = r.experts().profile(i, 1).klBits();
            }
        }
        double[] d = Arrays.copyOf(live, nLive);
        Arrays.sort(d);
        double[] cs = Arrays.copyOf(cos, nCos);
        Arrays.sort(cs);
        double[] ks = Arrays.copyOf(kl, nKl);
        Arrays.sort(ks);
        Density hist = n == 0 ? null : Density.of(fires, a.tokens(), r.options().denseCutoff());
        return new ClassStats(n, n - nLive, quantile(d, 0.5), quantile(d, 0.25), quantile(d, 0.75), hist,
                quantile(cs, 0.5), r.experts() == null ? Double.NaN : quantile(ks, 0.5), nKl);
    }

    /** Linear-interpolated quantile of sorted values (NaN if empty). */
    public static double quantile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /** Live latents (fired at least once). */
    public int live() {
        return latents - dead;
    }
}
