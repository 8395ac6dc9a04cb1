package dev.moescope.sae.eval;

/**
 * Activation density of each latent (fraction of validation tokens on which it fires), the dead and dense
 * fractions, and a log10 histogram of the densities of the live latents (SAELens's feature-density plot).
 *
 * @param deadFraction   latents that never fire on the validation set / F
 * @param denseFraction  latents with density above {@code denseCutoff} / F
 * @param denseCutoff    the cut-off used (not standardised across papers; stated with the result)
 * @param binLowerEdges  lower edge (log10 density) of each histogram bin, width {@code binWidth}
 * @param binWidth       bin width in log10 units
 * @param counts         live latents per bin
 * @param medianLog10    median log10 density of live latents (NaN if none)
 */
public record Density(double deadFraction, double denseFraction, double denseCutoff, double[] binLowerEdges,
                      double binWidth, long[] counts, double medianLog10) {

    public static Density of(long[] firingCounts, long tokens, double denseCutoff) {
        int f = firingCounts.length;
        int dead = 0;
        int dense = 0;
        double lo = Math.floor(Math.log10(1.0 / Math.max(1, tokens)) * 4) / 4;
        double width = 0.25;
        int bins = (int) Math.ceil(-lo / width) + 1;
        double[] edges = new double[bins];
        for (int i = 0; i < bins; i++) {
            edges[i] = lo + i * width;
        }
        long[] counts = new long[bins];
        double[] live = new double[f];
        int nLive = 0;
        for (long c : firingCounts) {
            if (c == 0) {
                dead++;
                continue;
            }
            double p = (double) c / tokens;
            if (p > denseCutoff) {
                dense++;
            }
            double l = Math.log10(p);
            live[nLive++] = l;
            int bin = (int) Math.floor((l - lo) / width);
            counts[Math.max(0, Math.min(bins - 1, bin))]++;
        }
        java.util.Arrays.sort(live, 0, nLive);
        double median = nLive == 0 ? Double.NaN
                : nLive % 2 == 1 ? live[nLive / 2] : (live[nLive / 2 - 1] + live[nLive / 2]) / 2;
        return new Density((double) dead / f, (double) dense / f, denseCutoff, edges, width, counts, median);
    }
}
