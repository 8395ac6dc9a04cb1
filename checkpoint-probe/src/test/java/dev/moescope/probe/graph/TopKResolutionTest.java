package dev.moescope.probe.graph;

import dev.moescope.fixtures.Fixtures;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The TorchScript exporter feeds TopK's K through {@code Reshape(Constant, Constant)}; detection must still read the
 * constant k (the top-k sweep and the gating guess depend on it), here on the real fixture export.
 */
class TopKResolutionTest {

    @Test
    void readsKThroughShapeOnlyOpsInTheFixtureExport() {
        Path model = Fixtures.path(Fixtures.MOE_MODEL).resolve(Fixtures.MODEL_FILE);
        ProbeSpec spec = ProbeDetector.detect(ModelFiles.load(model), model);
        assertFalse(spec.topK().isEmpty());
        for (ProbeSpec.TopKSite site : spec.topK()) {
            assertEquals(2, site.k(), "k of " + site.node());
        }
        assertEquals("softmax-topk-renorm:e=8,k=2", spec.gating());
    }
}
