package dev.moescope.sae.data;

import java.util.Map;
import java.util.function.Consumer;

/**
 * Activations of one hook for dictionary training. Training batches are addressed by index and fully determined
 * by (the source's seed, index, rows), which is what makes {@code --resume} exact: the trainer records the next
 * batch index in its checkpoint. Validation rows are a fixed set of whole documents never used for training.
 * Implementations stream: memory stays bounded whatever the data size.
 */
public interface ActivationSource extends AutoCloseable {

    /** Activation width d. */
    int width();

    /** What is read, for error messages ("runs/acts.npy", "synthetic"). */
    String name();

    /** The parameters that define this source, for provenance and for re-opening it at evaluation. */
    Map<String, String> describe();

    /** Training rows available, or -1 for an unbounded stream. */
    long trainRows();

    /** Held-out validation rows. */
    long validationRows();

    /** Training batch number {@code index} of {@code rows} rows (shuffled; epochs wrap around). */
    ActivationBatch trainBatch(long index, int rows);

    /** Feeds the validation rows, in a fixed order, in batches of at most {@code rows}. */
    void forEachValidation(int rows, Consumer<ActivationBatch> consumer);

    @Override
    default void close() {
    }
}
