package dev.moescope.toy.model;

import dev.moescope.core.error.Require;

import java.util.Arrays;

/**
 * One independently trained model in a batched run: its data distribution, loss weighting, router start and seed.
 * Feature i of an input is {@code U[0,1)} with probability {@code density[i]} (= 1 − S) and 0 otherwise.
 *
 * @param density    per-feature probability of being non-zero, each in (0, 1]
 * @param importance per-feature loss weight I_i, each non-negative
 * @param routerInit how the router starts
 * @param seed       seeds this instance's initialisation, data and held-out set
 * @param label      free text naming the instance in results (grid cell, seed index)
 */
public record InstanceSpec(float[] density, float[] importance, RouterInit routerInit, long seed, String label) {

    public InstanceSpec {
        Require.notNull("density", density);
        Require.notNull("importance", importance);
        Require.notNull("router init", routerInit);
        Require.that(density.length == importance.length, "importance length", "equal to density length "
                + density.length, importance.length);
        for (float d : density) {
            // density = 1 − S with S in [0, 1)
            Require.that(d > 0 && d <= 1, "sparsity S", "in [0, 1)", 1.0 - d);
        }
        for (float w : importance) {
            Require.that(w >= 0 && Float.isFinite(w), "importance", "non-negative and finite", w);
        }
        density = density.clone();
        importance = importance.clone();
    }

    /** The same density for every feature. */
    public static float[] uniformDensity(int n, double density) {
        float[] d = new float[n];
        Arrays.fill(d, (float) density);
        return d;
    }

    public int features() {
        return density.length;
    }

    @Override
    public float[] density() {
        return density.clone();
    }

    @Override
    public float[] importance() {
        return importance.clone();
    }

    /** Density of feature i without copying. */
    public float densityAt(int i) {
        return density[i];
    }

    public float importanceAt(int i) {
        return importance[i];
    }
}
