package dev.moescope.crosscoder.data;

import dev.moescope.core.provenance.Provenance;
import dev.moescope.store.Identity;
import dev.moescope.store.StoreSpec;
import dev.moescope.store.StoreWriter;
import dev.moescope.store.TokenRows;

import java.nio.file.Path;

/**
 * Writes a {@link SyntheticPairSource}'s two sources into two real activation stores on the same tokens (documents
 * of fixed length, token id of row r = r % 50), as {@code moescope probe run} writes an MoE and a dense store.
 * {@code corruptRow} (if non-negative) gets a different token id in store B only, making the pair misaligned.
 */
public final class PairStores {

    public static final String HOOK = "blocks.2.resid_post";

    private PairStores() {
    }

    public static void write(Path dirA, Path dirB, SyntheticPairSource source, int documents, int docLength,
                             long corruptRow) {
        for (int s = 0; s < 2; s++) {
            int d = source.widths()[s];
            StoreSpec spec = StoreSpec.builder(new Identity(s == 0 ? "synthetic-moe" : "synthetic-dense", "0"),
                            new Identity("none", "0"))
                    .hook(HOOK, d).batchRows(docLength).shardRows(docLength * 8).build();
            try (StoreWriter w = StoreWriter.create(s == 0 ? dirA : dirB, spec,
                    Provenance.start("test paired store").build())) {
                long row = 0;
                for (int doc = 0; doc < documents; doc++) {
                    float[] x = source.trainBatch(doc, docLength)[s];
                    int[] ids = new int[docLength];
                    for (int i = 0; i < docLength; i++, row++) {
                        ids[i] = (int) (row % 50);
                        if (s == 1 && row == corruptRow) {
                            ids[i] = 77;
                        }
                    }
                    w.beginDocument("doc-" + doc, doc % 2 == 0 ? "code" : "prose");
                    w.append(TokenRows.of(ids).hook(HOOK, x));
                    w.endDocument();
                }
            }
        }
    }
}
