package dev.moescope.sae.dictionary;

import java.util.Arrays;

/**
 * Counts, per latent, the tokens seen since it last fired; a latent is dead once that count reaches
 * {@code deadTokens} (10M in Gao et al. and dictionary_learning). Updated with each training batch before the
 * AuxK loss is formed, as dictionary_learning does, so a latent that fires in this batch is never "dead" in it.
 */
public final class DeadLatents {

    private final long deadTokens;
    private final long[] sinceFired;

    public DeadLatents(int latents, long deadTokens) {
        this.deadTokens = deadTokens;
        this.sinceFired = new long[latents];
    }

    /** Records one batch of {@code tokens} rows in which the latents flagged in {@code fired} fired. */
    public void update(boolean[] fired, long tokens) {
        for (int i = 0; i < sinceFired.length; i++) {
            sinceFired[i] = fired[i] ? 0 : sinceFired[i] + tokens;
        }
    }

    /** Ascending indices of the latents that are dead now. */
    public int[] dead() {
        int n = 0;
        for (long s : sinceFired) {
            if (s >= deadTokens) {
                n++;
            }
        }
        int[] d = new int[n];
        int p = 0;
        for (int i = 0; i < sinceFired.length; i++) {
            if (sinceFired[i] >= deadTokens) {
                d[p++] = i;
            }
        }
        return d;
    }

    public double deadFraction() {
        return (double) dead().length / sinceFired.length;
    }

    /** Tokens since each latent fired (a copy, for checkpoints). */
    public long[] state() {
        return sinceFired.clone();
    }

    public void restore(long[] state) {
        if (state.length != sinceFired.length) {
            throw new IllegalArgumentException("dead-latent state has " + state.length + " latents, expected "
                    + sinceFired.length);
        }
        System.arraycopy(state, 0, sinceFired, 0, state.length);
    }

    /** Marks latents as not having fired for {@code tokens} tokens (tests make latents dead on purpose). */
    public void forceSince(int[] latents, long tokens) {
        for (int i : latents) {
            sinceFired[i] = tokens;
        }
    }

    @Override
    public String toString() {
        return "DeadLatents" + Arrays.toString(dead());
    }
}
