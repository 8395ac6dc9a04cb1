package dev.moescope.sae.train;

import ai.djl.engine.Engine;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.sae.data.SyntheticSource;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Over many steps the trainer's live native arrays stay constant and the process's native memory stays flat. */
class MemoryFlatTest {

    private static long rssKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    /** Resident memory not accounted for by the committed Java heap (native allocations, mostly libtorch's). */
    private static long nativeKb() throws Exception {
        System.gc();
        return rssKb() - Runtime.getRuntime().totalMemory() / 1024;
    }

    @Test
    void liveArraysAndNativeMemoryStayFlat() throws Exception {
        Engine engine = DjlRuntime.pytorch(2);
        SyntheticSource src = new SyntheticSource(new SyntheticSource.Spec(64, 128, 4, 0.01, 256, 2));
        SaeConfig cfg = SaeConfig.defaults(512, 8, 256, 500).withLr(1e-3).withSchedule(10, 5)
                .withDeadTokens(2048, 1.0 / 32);
        try (SaeTraining t = SaeTraining.start(engine, src, cfg, 1, 2)) {
            for (int i = 0; i < 50; i++) {
                t.step();
            }
            int arrays = t.model().trainer().liveArrays();
            // RSS minus the committed heap moves by tens of MB with the allocator and the JIT; a leak grows with
            // every step. So measure over a long window (600 steps) and bound the growth per step.
            stepCheckingArrays(t, 150, arrays);
            long before = nativeKb();
            stepCheckingArrays(t, 600, arrays);
            long grown = nativeKb() - before;
            System.out.printf("live arrays %d; native memory (RSS minus committed Java heap) grew %d kB over 600 steps%n",
                    arrays, grown);
            assertEquals(arrays, t.model().trainer().liveArrays());
            // one step's native temporaries are ~1 MB (pre is 256 x 512 floats, plus inputs): 600 leaked steps would
            // add ~600 MB; the bound allows 0.2 MB a step
            assertTrue(grown < 120 * 1024, "native memory grew " + grown + " kB over 600 steps");
        }
    }

    private static void stepCheckingArrays(SaeTraining t, int steps, int arrays) {
        for (int i = 0; i < steps; i++) {
            t.step();
            if (i % 50 == 0) {
                assertEquals(arrays, t.model().trainer().liveArrays(), "live arrays at step " + t.stepsDone());
            }
        }
    }
}
