package dev.moescope.store;

import dev.moescope.store.stream.HookBatch;
import dev.moescope.store.stream.PairedStores;
import dev.moescope.store.stream.ShuffleConfig;
import dev.moescope.store.stream.ShuffledBatches;
import dev.moescope.store.stream.Split;
import dev.moescope.store.synthetic.SyntheticCorpus;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shuffled streaming: a permutation of the split's rows, seeded, split by document, paired across stores. */
class ShuffledBatchesTest {

    @TempDir
    Path tmp;

    private static final String HOOK = "blocks.0.resid_post";

    @Test
    void mappedViewsAndDecodedCopiesGiveTheSameBatches() {
        // uncompressed float32 rows are read through views of the mapped file, ZSTD ones through decoded copies:
        // the same seed must hand out the same rows with the same values either way
        Path plain = tmp.resolve("plain");
        Path zstd = tmp.resolve("zstd");
        TestStores.write(plain, TestStores.spec().build(), SyntheticCorpus.small(4), 120);
        TestStores.write(zstd, TestStores.spec().compression(StoreCompression.ZSTD).build(), SyntheticCorpus.small(4), 120);
        try (ActivationStore a = ActivationStore.open(plain); ActivationStore b = ActivationStore.open(zstd)) {
            assertTrue(a.hookView(HOOK, 0, 8) != null, "uncompressed rows have a mapped view");
            assertEquals(null, b.hookView(HOOK, 0, 8), "compressed rows have none");
            for (ShuffleConfig cfg : List.of(ShuffleConfig.training(64, 9).withBufferRows(256),
                    ShuffleConfig.validation(50, 9))) {
                try (ShuffledBatches x = a.shuffled(HOOK, cfg); ShuffledBatches y = b.shuffled(HOOK, cfg)) {
                    int batches = 0;
                    for (HookBatch bx; (bx = x.next()) != null; batches++) {
                        HookBatch by = y.next();
                        assertArrayEquals(by.rowIndex(), bx.rowIndex());
                        assertArrayEquals(by.values(), bx.values());
                    }
                    assertEquals(null, y.next());
                    assertTrue(batches > 0);
                }
            }
        }
    }

    @Test
    void trainAndValidationPartitionTheRowsByDocument() {
        Path dir = tmp.resolve("s");
        TestStores.write(dir, TestStores.spec().build(), SyntheticCorpus.small(4), 120);
        try (ActivationStore store = ActivationStore.open(dir)) {
            ShuffleConfig cfg = ShuffleConfig.training(64, 5).withBufferRows(256).withDropLast(false);
            List<Long> train = rows(store, cfg);
            List<Long> val = rows(store, cfg.withSplit(Split.VALIDATION));
            Set<Long> all = new HashSet<>(train);
            all.addAll(val);
            assertEquals(train.size() + val.size(), all.size(), "no row twice");
            assertEquals(store.rows(), all.size(), "every row once");
            Set<Long> trainDocs = docs(store, train);
            Set<Long> valDocs = docs(store, val);
            assertTrue(!valDocs.isEmpty() && !trainDocs.isEmpty());
            for (Long d : valDocs) {
                assertTrue(!trainDocs.contains(d), "document " + d + " is in both splits");
            }
            // the values handed out are the store's rows
            try (ShuffledBatches b = store.shuffled(HOOK, cfg)) {
                HookBatch batch = b.next();
                for (int i = 0; i < batch.rows(); i++) {
                    float[] row = Arrays.copyOfRange(batch.values(), i * 16, (i + 1) * 16);
                    assertArrayEquals(store.readHook(HOOK, batch.rowIndex()[i], 1), row);
                }
            }
        }
    }

    @Test
    void sameSeedSameOrderOtherEpochOtherOrder() {
        Path dir = tmp.resolve("s");
        TestStores.write(dir, TestStores.spec().build(), SyntheticCorpus.small(4), 60);
        try (ActivationStore store = ActivationStore.open(dir)) {
            ShuffleConfig cfg = ShuffleConfig.training(32, 9).withBufferRows(128);
            List<Long> a = rows(store, cfg);
            assertEquals(a, rows(store, cfg));
            List<Long> other = rows(store, cfg.withEpoch(1));
            assertNotEquals(a, other);
            assertEquals(new HashSet<>(a).size(), a.size());
            List<Long> sorted = new ArrayList<>(a);
            sorted.sort(null);
            assertNotEquals(sorted, a, "shuffled");
            assertEquals(0, a.size() % 32, "drop-last gives full batches");
        }
    }

    @Test
    void pairedStoresStreamTheSameRowsAndRefuseMisalignment() {
        SyntheticCorpus corpus = SyntheticCorpus.small(4);
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        TestStores.write(a, TestStores.spec().build(), corpus, 50);
        // same tokens, another model with other hooks and another shard size
        StoreSpec dense = StoreSpec.builder(new Identity("dense", "77"), TestStores.TOKENIZER)
                .hook("blocks.0.mlp_out", 10).shardRows(333).batchRows(50).build();
        TestStores.write(b, dense, corpus, 50);
        try (PairedStores pair = PairedStores.open(List.of(a, b));
             ShuffledBatches batches = pair.shuffled(List.of(HOOK, "blocks.0.mlp_out"), ShuffleConfig.training(40, 3))) {
            HookBatch batch = batches.next();
            for (int i = 0; i < batch.rows(); i++) {
                long row = batch.rowIndex()[i];
                assertArrayEquals(pair.stores().get(0).readHook(HOOK, row, 1), Arrays.copyOfRange(batch.values(0), i * 16, i * 16 + 16));
                assertArrayEquals(pair.stores().get(1).readHook("blocks.0.mlp_out", row, 1), Arrays.copyOfRange(batch.values(1), i * 10, i * 10 + 10));
            }
        }
        // a store with one token changed in document 20 is refused, naming exactly that row
        Path c = tmp.resolve("c");
        try (StoreWriter w = StoreWriter.create(c, dense, TestStores.provenance())) {
            for (int d = 0; d < 50; d++) {
                SyntheticCorpus.Document doc = corpus.document(d);
                if (d == 20) {
                    doc.tokenIds()[3] += 1;
                }
                w.beginDocument(doc.id(), doc.domain());
                w.append(corpus.rows(dense, doc));
                w.endDocument();
            }
        }
        long bad = corpus.rowsOf(20) + 3;
        StoreWriterTest.assertRefused(() -> PairedStores.open(List.of(a, c)),
                "first mismatch at row " + bad + " (document 'doc-20', position 3): token id");
    }

    private static List<Long> rows(ActivationStore store, ShuffleConfig cfg) {
        List<Long> out = new ArrayList<>();
        try (ShuffledBatches b = store.shuffled(HOOK, cfg)) {
            for (HookBatch batch; (batch = b.next()) != null; ) {
                for (long r : batch.rowIndex()) {
                    out.add(r);
                }
            }
        }
        return out;
    }

    private static Set<Long> docs(ActivationStore store, List<Long> rows) {
        Set<Long> d = new HashSet<>();
        for (long r : rows) {
            d.add(store.readDocumentIndex(r, 1)[0]);
        }
        return d;
    }
}
