package dev.moescope.store;

import dev.moescope.store.export.HfExporter;
import dev.moescope.store.export.NpyExporter;
import dev.moescope.store.synthetic.SyntheticCorpus;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Derived hooks added to a finished store: dense and sparse, aligned, verified, exported; the store's recorder refuses to resume. */
class HookAppenderTest {

    private static final String RESID = "blocks.0.resid_post";

    @TempDir
    Path tmp;

    /** Top-3 entries by value of each row: a stand-in for SAE latents. */
    static SparseRows top3(float[] x, int rows, int width, long firstRow) {
        int[] offsets = new int[rows + 1];
        int[] idx = new int[rows * 3];
        float[] val = new float[rows * 3];
        int n = 0;
        for (int r = 0; r < rows; r++) {
            boolean[] used = new boolean[width];
            int keep = (int) ((firstRow + r) % 4); // 0..3 active latents: variable L0, as BatchTopK gives
            for (int k = 0; k < keep; k++) {
                int best = -1;
                for (int j = 0; j < width; j++) {
                    if (!used[j] && (best < 0 || x[r * width + j] > x[r * width + best])) {
                        best = j;
                    }
                }
                used[best] = true;
                idx[n] = best;
                val[n] = x[r * width + best];
                n++;
            }
            offsets[r + 1] = n;
        }
        return new SparseRows(firstRow, width, offsets, java.util.Arrays.copyOf(idx, n), java.util.Arrays.copyOf(val, n));
    }

    @Test
    void denseAndSparseHooksAreAddedAlignedAndExported() throws Exception {
        for (StoreCompression compression : StoreCompression.values()) {
            Path dir = tmp.resolve(compression.name());
            StoreSpec spec = TestStores.spec().compression(compression).build();
            TestStores.write(dir, spec, SyntheticCorpus.small(8), 25);
            HookAppender.addDense(dir, HookSpec.float32("blocks.0.resid_scaled", 16), (store, chunk) -> {
                float[] x = store.readHook(RESID, chunk.firstRow(), chunk.rows());
                for (int i = 0; i < x.length; i++) {
                    x[i] *= 2;
                }
                return x;
            });
            HookAppender.addSparse(dir, HookSpec.sparse("blocks.0.latents", 16), (store, chunk) ->
                    top3(store.readHook(RESID, chunk.firstRow(), chunk.rows()), chunk.rows(), 16, chunk.firstRow()));
            StoreVerifier.verify(dir);
            try (ActivationStore store = ActivationStore.open(dir)) {
                assertEquals(5, store.hooks().size());
                int rows = (int) store.rows();
                float[] x = store.readHook(RESID, 0, rows);
                float[] doubled = store.readHook("blocks.0.resid_scaled", 0, rows);
                for (int i = 0; i < x.length; i++) {
                    assertEquals(2 * x[i], doubled[i]);
                }
                SparseRows want = top3(x, rows, 16, 0);
                SparseRows got = store.readSparse("blocks.0.latents", 0, rows);
                assertArrayEquals(want.offsets(), got.offsets());
                assertArrayEquals(want.indices(), got.indices());
                assertArrayEquals(want.values(), got.values());
                assertArrayEquals(want.toDense(), store.readHook("blocks.0.latents", 0, rows));
                // a range in the middle, across chunk boundaries
                SparseRows mid = store.readSparse("blocks.0.latents", 100, 200);
                assertArrayEquals(top3(java.util.Arrays.copyOfRange(x, 100 * 16, 300 * 16), 200, 16, 100).toDense(),
                        mid.toDense());

                Path npy = tmp.resolve("npy-" + compression);
                NpyExporter.export(store, List.of("blocks.0.latents"), npy);
                byte[] ptr = Files.readAllBytes(npy.resolve("blocks.0.latents.indptr.npy"));
                int header = ByteBuffer.wrap(ptr, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() + 10;
                assertEquals((rows + 1) * 8, ptr.length - header);
                assertEquals(want.indices().length,
                        ByteBuffer.wrap(ptr, ptr.length - 8, 8).order(ByteOrder.LITTLE_ENDIAN).getLong());
                HfExporter.Result hf = HfExporter.exportTokens(store, List.of("blocks.0.latents"), tmp.resolve("hf-" + compression), 0);
                assertEquals(store.rows(), hf.rows());
                assertTrue(Files.readString(tmp.resolve("hf-" + compression).resolve("dataset_info.json"))
                        .contains("\"blocks.0.latents.indices\""));
            }
            StoreWriterTest.assertRefused(() -> StoreWriter.resume(dir, spec), "hooks differ");
            StoreWriterTest.assertRefused(() -> HookAppender.addDense(dir, HookSpec.float32("blocks.0.resid_scaled", 16),
                    (s, c) -> new float[c.rows() * 16]), "already has a hook named blocks.0.resid_scaled");
        }
    }

    @Test
    void aSourceOfTheWrongShapeLeavesTheStoreUnchanged() throws Exception {
        Path dir = tmp.resolve("s");
        TestStores.write(dir, TestStores.spec().build(), SyntheticCorpus.small(8), 10);
        String before = Files.readString(dir.resolve("manifest.json"));
        StoreWriterTest.assertRefused(() -> HookAppender.addDense(dir, HookSpec.float32("blocks.0.bad", 4),
                (s, c) -> new float[c.rows() * 3]), "has width 4 but the source gave");
        assertEquals(before, Files.readString(dir.resolve("manifest.json")));
        assertEquals(0, StoreVerifier.verify(dir).uncommitted().size());
    }
}
