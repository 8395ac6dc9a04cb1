package dev.moescope.crosscoder.data;

import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The paired-store source: same tokens from both stores, deterministic batches, misaligned stores refused. */
class PairedStoreSourceTest {

    @Test
    void batchesHoldTheSameTokensFromBothStoresAndAreDeterministic(@TempDir Path tmp) {
        SyntheticPairSource syn = new SyntheticPairSource(8, 3, 3, 3, 0.3, 1);
        PairStores.write(tmp.resolve("a"), tmp.resolve("b"), syn, 20, 16, -1);
        List<Path> dirs = List.of(tmp.resolve("a"), tmp.resolve("b"));
        try (PairedStoreSource s = new PairedStoreSource(dirs, List.of(PairStores.HOOK, PairStores.HOOK), 5);
             PairedStoreSource again = new PairedStoreSource(dirs, List.of(PairStores.HOOK, PairStores.HOOK), 5)) {
            assertArrayEquals(new int[]{8, 8}, s.widths());
            float[][] b0 = s.trainBatch(0, 32);
            // batches past one epoch (288 training rows at most → < 10 batches of 32) wrap into the next epoch
            float[][] late = s.trainBatch(25, 32);
            assertEquals(32 * 8, late[1].length);
            assertArrayEquals(b0[0], again.trainBatch(0, 32)[0]);
            assertArrayEquals(b0[1], s.trainBatch(0, 32)[1]); // going back re-opens, same batch
            assertNotEquals(java.util.Arrays.toString(b0[0]), java.util.Arrays.toString(s.trainBatch(1, 32)[0]));
            // the two stores hold different activations (row alignment itself is PairedStores' job, tested there)
            assertFalse(java.util.Arrays.equals(b0[0], b0[1]));
        }
    }

    @Test
    void misalignedStoresAreRefusedWithOneLineBadInput(@TempDir Path tmp) {
        SyntheticPairSource syn = new SyntheticPairSource(8, 3, 3, 3, 0.3, 1);
        PairStores.write(tmp.resolve("a"), tmp.resolve("b"), syn, 10, 16, 37);
        MoescopeException e = assertThrows(MoescopeException.class, () -> new PairedStoreSource(
                List.of(tmp.resolve("a"), tmp.resolve("b")), List.of(PairStores.HOOK, PairStores.HOOK), 5));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains("37"), e.getMessage());
    }
}
