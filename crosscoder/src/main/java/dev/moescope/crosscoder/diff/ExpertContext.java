package dev.moescope.crosscoder.diff;

import dev.moescope.core.error.Require;
import dev.moescope.sae.dictionary.SparseCodes;
import dev.moescope.store.RoutingColumns;

import java.util.ArrayList;
import java.util.List;

/**
 * Which experts an MoE routed to on the tokens where each latent fires, against the base rate over all evaluated
 * tokens, at one MoE layer. Memory: {@code latents x experts} counters. Per latent it gives the experts ranked by
 * share (fraction of the latent's firing tokens that were routed to the expert; with top-k routing the shares sum
 * to k) next to their base rate, and an expert-concentration number: the KL divergence in bits of the latent's
 * expert distribution from the base distribution (0 = routed like any token; large = the latent lives on a few
 * experts). Small samples inflate the KL, so aggregates use latents with at least {@link #MIN_FIRES} firings.
 */
public final class ExpertContext {

    /** Fewest firing tokens for a latent to enter the per-class concentration aggregates. */
    public static final int MIN_FIRES = 10;

    private final int layer;
    private final int experts;
    private final int latents;
    private final long[] counts;
    private final long[] base;
    private final long[] fires;
    private long tokens;

    /** One latent's routing context. */
    public record Profile(long fires, int[] topExperts, double[] shares, double[] baseRates, double klBits) {
    }

    public ExpertContext(int layer, int experts, int latents) {
        this.layer = layer;
        this.experts = Require.positive("experts", experts);
        this.latents = Require.positive("latents", latents);
        this.counts = new long[Math.multiplyExact(latents, experts)];
        this.base = new long[experts];
        this.fires = new long[latents];
    }

    public int layer() {
        return layer;
    }

    public int experts() {
        return experts;
    }

    /**
     * Adds a batch: {@code codes} row r is store row {@code rowIds[r]}; {@code routing} covers every one of those
     * rows (a range read from {@code routing.firstRow()}).
     */
    public void add(SparseCodes codes, long[] rowIds, RoutingColumns routing) {
        int k = routing.topK();
        for (int r = 0; r < codes.rows; r++) {
            int at = (int) (rowIds[r] - routing.firstRow()) * k;
            for (int j = 0; j < k; j++) {
                base[routing.expertIds()[at + j]]++;
            }
            for (int p = codes.rowPtr[r]; p < codes.rowPtr[r + 1]; p++) {
                if (codes.vals[p] <= 0) {
                    continue;
                }
                int l = codes.cols[p];
                fires[l]++;
                int o = l * experts;
                for (int j = 0; j < k; j++) {
                    counts[o + routing.expertIds()[at + j]]++;
                }
            }
            tokens++;
        }
    }

    /** Base rate of each expert: the share of evaluated tokens routed to it. */
    public double[] baseRates() {
        double[] q = new double[experts];
        for (int e = 0; e < experts; e++) {
            q[e] = tokens == 0 ? 0 : (double) base[e] / tokens;
        }
        return q;
    }

    /** Latent {@code l}'s profile with its {@code top} experts by share; null when it never fired. */
    public Profile profile(int l, int top) {
        if (fires[l] == 0) {
            return null;
        }
        double[] q = baseRates();
        long total = 0;
        long baseTotal = 0;
        for (int e = 0; e < experts; e++) {
            total += counts[l * experts + e];
            baseTotal += base[e];
        }
        double kl = 0;
        for (int e = 0; e < experts; e++) {
            long c = counts[l * experts + e];
            if (c > 0) {
                double p = (double) c / total;
                double qe = (double) base[e] / baseTotal;
                kl += p * Math.log(p / qe) / Math.log(2);
            }
        }
        List<Integer> order = new ArrayList<>();
        for (int e = 0; e < experts; e++) {
            order.add(e);
        }
        order.sort((a, b) -> {
            int c = Long.compare(counts[l * experts + b], counts[l * experts + a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        int n = Math.min(top, experts);
        int[] ids = new int[n];
        double[] shares = new double[n];
        double[] rates = new double[n];
        for (int i = 0; i < n; i++) {
            int e = order.get(i);
            ids[i] = e;
            shares[i] = (double) counts[l * experts + e] / fires[l];
            rates[i] = q[e];
        }
        return new Profile(fires[l], ids, shares, rates, kl);
    }

    public int latents() {
        return latents;
    }

    public long tokens() {
        return tokens;
    }
}
