package dev.moescope.sae.data;

import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.store.stream.DocumentSplit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The store adapter: split by document, addressable batches, bad input. */
class StoreSourceTest {

    private static final SyntheticSource TRUTH = new SyntheticSource(new SyntheticSource.Spec(16, 24, 3, 0.02, 64, 4));

    private static Path store(Path dir, long nanRow) {
        Path s = dir.resolve("store");
        GroundTruthStores.write(s, TRUTH, 120, 32, 200, nanRow);
        return s;
    }

    @Test
    void splitIsByDocumentAndCoversEveryRowOnce(@TempDir Path dir) {
        Path s = store(dir, -1);
        try (StoreSource src = new StoreSource(new StoreSource.Spec(s, GroundTruthStores.HOOK, 5, 0.2, 4))) {
            assertEquals(16, src.width());
            assertEquals(120 * 32, src.trainRows() + src.validationRows());
            assertTrue(src.validationRows() > 0 && src.trainRows() > src.validationRows());
            DocumentSplit split = new DocumentSplit(5, 0.2);
            Set<Long> valDocs = new HashSet<>();
            long[] seen = {0};
            src.forEachValidation(100, b -> {
                for (int r = 0; r < b.rows(); r++) {
                    assertTrue(split.isValidation(b.documents()[r]));
                    assertEquals(b.rowIds()[r] / 32, b.documents()[r], "row -> document");
                    valDocs.add(b.documents()[r]);
                }
                seen[0] += b.rows();
            });
            assertEquals(src.validationRows(), seen[0]);
            // every validation document is whole: 32 rows each
            assertEquals(valDocs.size() * 32L, seen[0]);
            // an epoch of training batches never touches a validation document and visits each training row once
            long perEpoch = src.trainRows() / 64;
            Set<Long> rows = new HashSet<>();
            for (long i = 0; i < perEpoch; i++) {
                ActivationBatch b = src.trainBatch(i, 64);
                assertEquals(64, b.rows());
                for (long row : b.rowIds()) {
                    assertFalse(valDocs.contains(row / 32), "training row " + row + " of a validation document");
                    assertTrue(rows.add(row), "row " + row + " twice in one epoch");
                }
            }
            // the data is the stored data: row metadata and values agree with a direct read
            ActivationBatch b = src.trainBatch(3, 64);
            long row = b.rowIds()[5];
            float[] direct = src.store().readHook(GroundTruthStores.HOOK, row, 1);
            float[] got = java.util.Arrays.copyOfRange(b.data(), 5 * 16, 6 * 16);
            assertArrayEquals(direct, got);
            assertEquals("doc-" + row / 32, src.tokens(row, 1).docId()[0]);
            assertEquals(GroundTruthStores.DOMAINS[(int) (row / 32) % 3], src.tokens(row, 1).domain()[0]);
        }
    }

    @Test
    void batchesAreAddressableAcrossInstancesAndEpochs(@TempDir Path dir) {
        Path s = store(dir, -1);
        StoreSource.Spec spec = new StoreSource.Spec(s, GroundTruthStores.HOOK, 11, 0.1, 3);
        try (StoreSource a = new StoreSource(spec); StoreSource b = new StoreSource(spec)) {
            long perEpoch = a.trainRows() / 50;
            ActivationBatch[] straight = new ActivationBatch[(int) perEpoch + 5];
            for (int i = 0; i < straight.length; i++) {
                straight[i] = a.trainBatch(i, 50);
            }
            // a fresh instance jumping straight to an index (what --resume does) reads the same batch
            for (long i : new long[]{perEpoch + 3, 7, 8, 0, perEpoch - 1, perEpoch}) {
                ActivationBatch c = b.trainBatch(i, 50);
                assertArrayEquals(straight[(int) i].rowIds(), c.rowIds(), "batch " + i);
                assertArrayEquals(straight[(int) i].data(), c.data(), "batch " + i);
            }
            assertNotEquals(java.util.Arrays.toString(straight[0].rowIds()),
                    java.util.Arrays.toString(straight[(int) perEpoch].rowIds()), "epochs are shuffled differently");
        }
        // another seed, another order
        try (StoreSource c = new StoreSource(new StoreSource.Spec(s, GroundTruthStores.HOOK, 12, 0.1, 3));
             StoreSource a = new StoreSource(spec)) {
            assertNotEquals(java.util.Arrays.toString(a.trainBatch(0, 50).rowIds()),
                    java.util.Arrays.toString(c.trainBatch(0, 50).rowIds()));
        }
    }

    @Test
    void badInputIsOneLineExitThree(@TempDir Path dir) {
        Path s = store(dir, 1000);
        MoescopeException missing = assertThrows(MoescopeException.class,
                () -> new StoreSource(new StoreSource.Spec(s, "blocks.9.nope", 1, 0.1, 2)));
        assertEquals(ExitCode.BAD_INPUT, missing.exitCode());
        assertTrue(missing.getMessage().contains("blocks.9.nope") && missing.getMessage().contains(GroundTruthStores.HOOK),
                missing.getMessage());
        assertFalse(missing.getMessage().contains("\n"));
        try (StoreSource src = new StoreSource(new StoreSource.Spec(s, GroundTruthStores.HOOK, 1, 0.1, 2))) {
            MoescopeException small = assertThrows(MoescopeException.class, () -> src.trainBatch(0, 100_000));
            assertEquals(ExitCode.BAD_INPUT, small.exitCode());
            assertTrue(small.getMessage().contains("too small"), small.getMessage());
            // the NaN row is reported by its store row, or dropped on request
            long perEpoch = src.trainRows() / 64;
            boolean found = false;
            for (long i = 0; i < perEpoch && !found; i++) {
                ActivationBatch b = src.trainBatch(i, 64);
                for (long r : b.rowIds()) {
                    if (r == 1000) {
                        found = true;
                        MoescopeException nan = assertThrows(MoescopeException.class,
                                () -> BatchChecks.finite(b, src.name(), false));
                        assertEquals(ExitCode.BAD_INPUT, nan.exitCode());
                        assertTrue(nan.getMessage().contains("row 1000 column 1 is NaN"), nan.getMessage());
                        ActivationBatch kept = BatchChecks.finite(b, src.name(), true);
                        assertEquals(63, kept.rows());
                    }
                }
            }
            assertTrue(found, "row 1000 (a training document under seed 1) was read");
            assertNull(src.trainBatch(0, 64).documents());
        }
        assertTrue(Files.isDirectory(s));
    }
}
