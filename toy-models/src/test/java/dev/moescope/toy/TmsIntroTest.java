package dev.moescope.toy;

import dev.moescope.core.provenance.Provenance;
import dev.moescope.toy.experiments.ExperimentContext;
import dev.moescope.toy.experiments.Experiments;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TMS intro (quick): two orthogonal features at density 1, a pentagon at density 0.05. */
class TmsIntroTest {

    @Test
    void denseKeepsTwoOrthogonalFeaturesSparseMakesAPentagon(@TempDir Path dir) throws Exception {
        long t0 = System.nanoTime();
        Map<String, Object> r = Experiments.byName("tms-intro").run(
                new ExperimentContext(dir, true, 0, 0, Provenance.start("test").build()));
        System.out.println("tms-intro quick: " + (System.nanoTime() - t0) / 1e9 + " s " + r);
        assertEquals(2, r.get("dense_represented_norm_gt_0_9"));
        assertTrue((double) r.get("dense_max_abs_cos_between_represented") < 0.05);
        assertEquals(5, r.get("sparse_represented_norm_gt_0_8"));
        double[] gaps = (double[]) r.get("sparse_adjacent_angles_deg");
        assertEquals(5, gaps.length);
        for (double g : gaps) {
            assertEquals(72, g, 10, "pentagon angle");
        }
        assertTrue(Files.size(dir.resolve("features.png")) > 1000);
        assertTrue(Files.size(dir.resolve("tms-intro.safetensors")) > 1000);
    }
}
