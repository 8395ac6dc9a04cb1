package dev.moescope.crosscoder.data;

import java.util.List;
import java.util.Map;

/**
 * Activations of several sources (models, hooks) on the same tokens. Batch {@code index} is fully determined by
 * (the source's seed, index, rows), as for the SAE's {@link dev.moescope.sae.data.ActivationSource}; row b of every
 * source's array is the same token. Held-out rows (never in a training batch) come from
 * {@link #forEachValidation}.
 */
public interface PairedSource extends AutoCloseable {

    /** Receives one held-out batch: one row-major {@code rows x widths()[s]} array per source. */
    @FunctionalInterface
    interface BatchConsumer {
        void accept(float[][] x, int rows);
    }

    /** Activation width of each source. */
    int[] widths();

    /** One name per source ("stores/moe:blocks.2.resid_post"), for messages and provenance. */
    List<String> names();

    /** The parameters that define the source, for provenance. */
    Map<String, String> describe();

    /** Training batch {@code index}: one row-major {@code rows x widths()[s]} array per source. */
    float[][] trainBatch(long index, int rows);

    /**
     * Streams held-out rows in batches of at most {@code rows}, at most {@code maxRows} in all, the same rows every
     * call. The default has none.
     */
    default void forEachValidation(int rows, long maxRows, BatchConsumer consumer) {
    }

    @Override
    default void close() {
    }
}
