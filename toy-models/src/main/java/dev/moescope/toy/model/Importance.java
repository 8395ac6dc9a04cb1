package dev.moescope.toy.model;

import dev.moescope.core.Seeds;

import java.util.SplittableRandom;

/** The importance profiles the papers use. */
public final class Importance {

    private Importance() {
    }

    /** I_i = decay^i. */
    public static float[] geometric(int n, double decay) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.pow(decay, i);
        }
        return v;
    }

    /** I ≡ 1. */
    public static float[] uniform(int n) {
        return geometric(n, 1.0);
    }

    /** I_i = decay^{π(i)} for a permutation π drawn from {@code seed} (the paper's were unseeded). */
    public static float[] permutedGeometric(int n, double decay, long seed) {
        int[] perm = permutation(n, Seeds.random(seed, "importance permutation"));
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.pow(decay, perm[i]);
        }
        return v;
    }

    /** All features weight 1 except the last, which weighs {@code last} (the phase-diagram profile). */
    public static float[] lastFeature(int n, double last) {
        float[] v = uniform(n);
        v[n - 1] = (float) last;
        return v;
    }

    /** A uniformly random permutation of 0..n−1 (Fisher–Yates). */
    public static int[] permutation(int n, SplittableRandom rnd) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
