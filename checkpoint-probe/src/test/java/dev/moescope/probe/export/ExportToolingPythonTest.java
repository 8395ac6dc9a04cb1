package dev.moescope.probe.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.onnxruntime.OrtSession;
import com.google.gson.JsonObject;
import dev.moescope.fixtures.NpyArray;
import dev.moescope.fixtures.PythonTests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the Python export tooling's unit tests ({@code checkpoint-probe/export/tests}) inside {@code mvn verify},
 * then checks every mirror-family model they exported under ONNX Runtime Java against its PyTorch reference:
 * all outputs within 1e-4, and for families whose selection depends on the logits alone, the top-k of the
 * exported router logits equals the PyTorch gate's choice.
 *
 * <p>Skips only outside CI ({@code CI} unset) when Python with torch and onnx is missing; in CI a missing
 * Python stack fails the build.
 */
@Tag("slow")
class ExportToolingPythonTest {

    private static final Path EXPORT_DIR = Path.of(System.getProperty("basedir", ".")).resolve("export");

    @Test
    void pythonExportTestsPassAndTheirExportsRunInOnnxRuntimeJava(@TempDir Path exports) throws Exception {
        Optional<String> missing = PythonTests.missingStack();
        if (missing.isPresent()) {
            if (PythonTests.inCi()) {
                fail("CI needs Python with torch, onnx and numpy: " + missing.get());
            }
            Assumptions.abort("no Python with torch/onnx here (" + missing.get() + "); CI runs this test");
        }

        PythonTests.Outcome tests = PythonTests.unittest(EXPORT_DIR,
                Map.of("MOESCOPE_MIRROR_EXPORTS", exports.toString()), Duration.ofMinutes(10));
        System.out.println(tests.output().lines().filter(l -> !l.contains("Warning") && !l.startsWith("  "))
                .reduce("", (a, b) -> a + b + "\n"));
        assertTrue(tests.passed(), "Python export tests failed:\n" + tests.output());
        assertTrue(tests.output().contains("\nOK"), tests.output());

        List<Path> dirs;
        try (Stream<Path> s = Files.list(exports)) {
            dirs = s.filter(d -> Files.exists(d.resolve("moescope-export.json"))).sorted().toList();
        }
        assertTrue(dirs.size() >= 10, "expected every mirror family exported, got " + dirs);
        List<String> checked = new ArrayList<>();
        for (Path dir : dirs) {
            checkAgainstReference(dir);
            checked.add(dir.getFileName().toString());
        }
        System.out.println("ONNX Runtime Java matches PyTorch for mirror exports: " + checked);
    }

    private static void checkAgainstReference(Path dir) throws Exception {
        JsonObject sidecar = FixtureModelsTest.readJson(dir.resolve("moescope-export.json"));
        JsonObject gating = sidecar.getAsJsonObject("gating");
        Map<String, NpyArray> reference = NpyArray.readNpz(dir.resolve("reference.npz"));
        long[] mask = reference.get("attention_mask").longs();
        try (OrtSession session = OrtReference.open(dir.resolve("model.onnx"))) {
            Map<String, OrtReference.Tensor> got = OrtReference.run(session, reference);
            for (Map.Entry<String, OrtReference.Tensor> e : got.entrySet()) {
                NpyArray expected = reference.get(e.getKey());
                assertArrayEquals(expected.shape(), e.getValue().shape(), dir + " " + e.getKey());
                double diff = OrtReference.maxAbsDiff(expected.floats(), e.getValue().values());
                assertTrue(diff < 1e-4, dir.getFileName() + " " + e.getKey() + ": max abs diff " + diff);
            }
            // top-k of the logits is the selection unless a bias or group limit intervenes (DeepSeek-V3)
            boolean logitsDecide = !gating.get("selection_bias").getAsBoolean() && gating.get("n_group").isJsonNull();
            if (!logitsDecide) {
                return;
            }
            int k = gating.get("top_k").getAsInt();
            int experts = gating.get("num_experts").getAsInt();
            for (var layer : sidecar.getAsJsonObject("model").getAsJsonArray("moe_layers")) {
                int l = layer.getAsInt();
                float[] logits = got.get("blocks." + l + ".router_logits").values();
                long[] chosen = reference.get("blocks." + l + ".topk_ids").longs();
                for (int t = 0; t < mask.length; t++) {
                    if (mask[t] == 0) {
                        continue;
                    }
                    int[] top = OrtReference.topK(logits, t * experts, experts, k);
                    for (int j = 0; j < k; j++) {
                        assertEquals(chosen[t * k + j], top[j], dir.getFileName() + " layer " + l + " token " + t);
                    }
                }
            }
        }
    }
}
