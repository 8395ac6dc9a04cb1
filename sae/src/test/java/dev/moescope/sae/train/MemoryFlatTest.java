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

    @Test
    void liveArraysAndNativeMemoryStayFlat() throws Exception {
        Engine engine = DjlRuntime.pytorch(2);
        SyntheticSource src = new SyntheticSource(new SyntheticSource.Spec(64, 128, 4, 0.01, 256, 2));
        SaeConfig cfg = SaeConfig.defaults(512, 8, 512, 600).withLr(1e-3).withSchedule(10, 5)
                .withDeadTokens(2048, 1.0 / 32);
        try (SaeTraining t = SaeTraining.start(engine, src, cfg, 1, 2)) {
            for (int i = 0; i < 50; i++) {
                t.step();
            }
            int arrays = t.model().trainer().liveArrays();
            System.gc();
            long rss0 = rssKb();
            for (int i = 0; i < 550; i++) {
                t.step();
                if (i % 100 == 0) {
                    assertEquals(arrays, t.model().trainer().liveArrays(), "live arrays at step " + t.stepsDone());
                }
            }
            System.gc();
            long grown = rssKb() - rss0;
            System.out.printf("live arrays %d, RSS grew %d kB over 550 steps%n", arrays, grown);
            assertEquals(arrays, t.model().trainer().liveArrays());
            // one step's native temporaries are ~4 MB (pre is 512 x 512 floats); 550 leaked steps would be > 500 MB
            assertTrue(grown < 64 * 1024, "RSS grew " + grown + " kB");
        }
    }
}
