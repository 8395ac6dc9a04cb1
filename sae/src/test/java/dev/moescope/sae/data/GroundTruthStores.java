package dev.moescope.sae.data;

import dev.moescope.core.provenance.Provenance;
import dev.moescope.store.Identity;
import dev.moescope.store.StoreSpec;
import dev.moescope.store.StoreWriter;
import dev.moescope.store.TokenRows;

import java.nio.file.Path;

/**
 * Writes synthetic ground-truth activations ({@link SyntheticSource}: sparse non-negative combinations of known
 * unit vectors plus noise) into a real activation store with {@link StoreWriter}, as documents of a fixed length
 * with token ids, token texts and alternating domains, so SAE tests go through the store path end to end.
 */
public final class GroundTruthStores {

    public static final String HOOK = "blocks.0.resid_post";
    public static final String[] DOMAINS = {"code", "math", "prose"};

    private GroundTruthStores() {
    }

    /**
     * Writes {@code documents} documents of {@code docLength} rows each drawn from {@code source}'s training
     * batches, in record batches of {@code batchRows}; store row {@code nanRow} (if non-negative) gets a NaN.
     * Token id of row r is {@code r % 50}; its text is {@code "tok<id>"}; document i is in domain {@code DOMAINS[i % 3]}.
     */
    public static void write(Path dir, SyntheticSource source, int documents, int docLength, int batchRows,
                             long nanRow) {
        int d = source.width();
        StoreSpec spec = StoreSpec.builder(new Identity("ground-truth-dictionary", "0"), new Identity("none", "0"))
                .hook(HOOK, d).tokenText(true).batchRows(batchRows).shardRows(batchRows * 8).build();
        try (StoreWriter w = StoreWriter.create(dir, spec, Provenance.start("test ground-truth store").build())) {
            long row = 0;
            for (int doc = 0; doc < documents; doc++) {
                float[] x = source.trainBatch(doc, docLength).data();
                int[] ids = new int[docLength];
                String[] texts = new String[docLength];
                for (int i = 0; i < docLength; i++, row++) {
                    ids[i] = (int) (row % 50);
                    texts[i] = "tok" + ids[i];
                    if (row == nanRow) {
                        x[i * d + 1] = Float.NaN;
                    }
                }
                w.beginDocument("doc-" + doc, DOMAINS[doc % DOMAINS.length]);
                w.append(TokenRows.of(ids).texts(texts).hook(HOOK, java.util.Arrays.copyOf(x, docLength * d)));
                w.endDocument();
            }
        }
    }
}
