package dev.moescope.crosscoder.data;

import java.util.List;
import java.util.Map;

/**
 * Activations of several sources (models, hooks) on the same tokens. Batch {@code index} is fully determined by
 * (the source's seed, index, rows), as for the SAE's {@link dev.moescope.sae.data.ActivationSource}; row b of every
 * source's array is the same token.
 */
public interface PairedSource extends AutoCloseable {

    /** Activation width of each source. */
    int[] widths();

    /** One name per source ("stores/moe:blocks.2.resid_post"), for messages and provenance. */
    List<String> names();

    /** The parameters that define the source, for provenance. */
    Map<String, String> describe();

    /** Training batch {@code index}: one row-major {@code rows x widths()[s]} array per source. */
    float[][] trainBatch(long index, int rows);

    @Override
    default void close() {
    }
}
