package dev.moescope.sae.eval;

import dev.moescope.core.error.Require;
import dev.moescope.sae.dictionary.SparseCodes;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code n} largest activations of every latent over a stream of encoded batches, with the source row of each
 * (the store row for a store source). Memory: {@code latents * n} entries, whatever the stream length. Ties keep
 * the row seen first, so the result is deterministic for a fixed row order.
 */
public final class TopActivations {

    /** One kept activation. */
    public record Entry(int latent, float value, long row) {
    }

    private final int latents;
    private final int n;
    // per latent, a min-heap of (value, row) of at most n entries, flattened
    private final float[] values;
    private final long[] rows;
    private final int[] sizes;

    public TopActivations(int latents, int n) {
        this.latents = Require.positive("latents", latents);
        this.n = Require.positive("contexts per latent", n);
        this.values = new float[Math.multiplyExact(latents, n)];
        this.rows = new long[values.length];
        this.sizes = new int[latents];
    }

    /** Offers every active entry of {@code codes}; row {@code r} of the batch is source row {@code rowIds[r]}. */
    public void add(SparseCodes codes, long[] rowIds) {
        for (int r = 0; r < codes.rows; r++) {
            for (int p = codes.rowPtr[r]; p < codes.rowPtr[r + 1]; p++) {
                if (codes.vals[p] > 0) {
                    offer(codes.cols[p], codes.vals[p], rowIds[r]);
                }
            }
        }
    }

    private void offer(int latent, float v, long row) {
        int base = latent * n;
        int size = sizes[latent];
        if (size < n) {
            values[base + size] = v;
            rows[base + size] = row;
            sizes[latent] = size + 1;
            siftUp(base, size);
        } else if (v > values[base]) {
            values[base] = v;
            rows[base] = row;
            siftDown(base, n);
        }
    }

    private boolean less(int a, int b) {
        return values[a] < values[b] || (values[a] == values[b] && rows[a] > rows[b]);
    }

    private void swap(int a, int b) {
        float v = values[a];
        values[a] = values[b];
        values[b] = v;
        long r = rows[a];
        rows[a] = rows[b];
        rows[b] = r;
    }

    private void siftUp(int base, int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (!less(base + i, base + parent)) {
                return;
            }
            swap(base + i, base + parent);
            i = parent;
        }
    }

    private void siftDown(int base, int size) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            int m = i;
            if (l < size && less(base + l, base + m)) {
                m = l;
            }
            if (l + 1 < size && less(base + l + 1, base + m)) {
                m = l + 1;
            }
            if (m == i) {
                return;
            }
            swap(base + i, base + m);
            i = m;
        }
    }

    /** Latent {@code latent}'s kept activations, largest first (ties: earlier row first). */
    public List<Entry> of(int latent) {
        int base = latent * n;
        Integer[] order = new Integer[sizes[latent]];
        for (int i = 0; i < order.length; i++) {
            order[i] = base + i;
        }
        Arrays.sort(order, (a, b) -> less(a, b) ? 1 : less(b, a) ? -1 : 0);
        List<Entry> out = new ArrayList<>(order.length);
        for (int i : order) {
            out.add(new Entry(latent, values[i], rows[i]));
        }
        return out;
    }

    public int latents() {
        return latents;
    }
}
