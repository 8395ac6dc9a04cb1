package dev.moescope.store;

import dev.moescope.store.synthetic.SyntheticCorpus;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What is written comes back exactly, through every read path, for both compressions and float16. */
class StoreRoundTripTest {

    @TempDir
    Path tmp;

    @Test
    void everyRowComesBackExactly() {
        roundTrip(TestStores.spec().build(), tmp.resolve("plain"));
    }

    @Test
    void zstdStoresRoundTrip() {
        roundTrip(TestStores.spec().compression(StoreCompression.ZSTD).build(), tmp.resolve("zstd"));
    }

    private void roundTrip(StoreSpec spec, Path dir) {
        SyntheticCorpus corpus = SyntheticCorpus.small(3);
        int docs = 40;
        TestStores.write(dir, spec, corpus, docs);
        try (ActivationStore store = ActivationStore.open(dir)) {
            assertEquals(docs, store.documents());
            assertEquals(corpus.rowsOf(docs), store.rows());
            assertTrue(store.manifest().shards().size() > 1, "several shards");
            long row = 0;
            for (int d = 0; d < docs; d++) {
                SyntheticCorpus.Document doc = corpus.document(d);
                TokenRows expected = corpus.rows(spec, doc);
                int n = doc.tokenIds().length;
                TokenColumns t = store.readTokens(row, n);
                for (int i = 0; i < n; i++) {
                    assertEquals(d, t.docIndex()[i]);
                    assertEquals(doc.id(), t.docId()[i]);
                    assertEquals(doc.domain(), t.domain()[i]);
                    assertEquals(i, t.position()[i]);
                    assertEquals(doc.tokenIds()[i], t.tokenId()[i]);
                    assertEquals(doc.texts()[i], t.text()[i]);
                }
                for (HookSpec h : spec.hooks()) {
                    float[] want = java.util.Arrays.copyOf(expected.hooks().get(h.name()), n * h.width());
                    assertArrayEquals(want, store.readHook(h.name(), row, n), h.name() + " doc " + d);
                }
                RoutingColumns r = store.readRouting(1, row, n);
                assertArrayEquals(expected.expertIds().get(1), r.expertIds());
                assertArrayEquals(expected.gateWeights().get(1), r.gateWeights());
                row += n;
            }
            // chunk streaming sees every row once, in order
            long seen = 0;
            for (HookChunk c : store.hookChunks("blocks.0.resid_post")) {
                assertEquals(seen, c.firstRow());
                assertArrayEquals(store.readHook("blocks.0.resid_post", c.firstRow(), c.rows()), c.toArray());
                seen += c.rows();
            }
            assertEquals(store.rows(), seen);
        }
    }

    @Test
    void float16HooksRoundTripToHalfPrecision() {
        StoreSpec spec = StoreSpec.builder(TestStores.MODEL, TestStores.TOKENIZER)
                .hook("blocks.0.resid_post", 12, Dtype.FLOAT16).shardRows(300).batchRows(64).build();
        SyntheticCorpus corpus = SyntheticCorpus.small(5);
        Path dir = tmp.resolve("half");
        TestStores.write(dir, spec, corpus, 10);
        try (ActivationStore store = ActivationStore.open(dir)) {
            long row = 0;
            for (int d = 0; d < 10; d++) {
                SyntheticCorpus.Document doc = corpus.document(d);
                float[] want = corpus.rows(spec, doc).hooks().get("blocks.0.resid_post");
                float[] got = store.readHook("blocks.0.resid_post", row, doc.tokenIds().length);
                for (int i = 0; i < got.length; i++) {
                    assertEquals(want[i], got[i], Math.abs(want[i]) * 1e-3 + 1e-4);
                }
                row += doc.tokenIds().length;
            }
        }
    }
}
