package dev.moescope.probe.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.onnxruntime.OrtSession;
import com.google.gson.JsonObject;
import dev.moescope.fixtures.NpyArray;
import dev.moescope.fixtures.PythonTests;
import dev.moescope.probe.gating.Gate;
import dev.moescope.probe.gating.GatingConfig;
import dev.moescope.probe.gating.Routing;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.TimeUnit;
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
 *
 * <p>The second test does the same for tiny random models of the real transformers families
 * ({@code tests/test_hf_families.py}, moe-probe targets 7 and 8) with the interpreter of the private virtual
 * environment that {@code .ci/run} builds ({@code $MOESCOPE_HF_PYTHON}, else
 * {@code ~/.cache/moescope/python-hf/bin/python}; transformers, onnxruntime), then re-derives every token's
 * experts in Java with {@link Gate} from the router logits ONNX Runtime Java computes and requires them to equal
 * the exporter's reference ids. CI exports {@link #CI_FAMILIES}; {@code -Dmoescope.hf.families=all} exports all.
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

    /** One family per gating scheme the Java gate knows: softmax+renorm, top-k-then-softmax with router bias,
     * sigmoid with selection bias and groups. Keeps the added CI time near a minute. */
    static final String CI_FAMILIES = "qwen3_moe,gpt_oss,deepseek_v3";

    /** Families whose gating the Java {@link Gate} does not implement (PhiMoE's sparsemixer): checked in Python only. */
    private static final Set<String> NOT_IN_JAVA_GATE = Set.of("hf-phimoe");

    static Path hfPython() {
        String configured = System.getenv("MOESCOPE_HF_PYTHON");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "moescope", "python-hf", "bin", "python");
    }

    @Test
    void realTransformersFamiliesExportAndJavaReDerivesTheirRouting(@TempDir Path exports) throws Exception {
        Path python = hfPython();
        if (!Files.isExecutable(python)) {
            if (PythonTests.inCi()) {
                fail("CI needs the transformers virtual environment (.ci/run builds it): " + python);
            }
            Assumptions.abort("no transformers virtual environment at " + python + "; CI runs this test");
        }
        String families = System.getProperty("moescope.hf.families", CI_FAMILIES);
        ProcessBuilder pb = new ProcessBuilder(python.toString(), "-m", "unittest", "tests.test_hf_families", "-v")
                .directory(EXPORT_DIR.toFile()).redirectErrorStream(true);
        pb.environment().put("MOESCOPE_HF_EXPORTS", exports.toString());
        pb.environment().put("MOESCOPE_HF_FAMILIES", families.equals("all") ? "" : families);
        pb.environment().put("HF_HUB_OFFLINE", "1");
        pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        Process p = pb.start();
        var output = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(unreadable: " + e.getMessage() + ")";
            }
        });
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("test_hf_families timed out");
        }
        String text = output.join();
        System.out.println(text.lines().filter(l -> !l.contains("Warning") && !l.startsWith("  "))
                .reduce("", (a, b) -> a + b + "\n"));
        assertEquals(0, p.exitValue(), "test_hf_families failed:\n" + text);
        assertTrue(text.contains("\nOK"), text);
        assertTrue(!text.contains("skipped"), "transformers families were skipped:\n" + text);

        List<Path> dirs;
        try (Stream<Path> s = Files.list(exports)) {
            dirs = s.filter(d -> Files.exists(d.resolve("moescope-export.json"))).sorted().toList();
        }
        int expected = families.equals("all") ? 9 : families.split(",").length;
        assertTrue(dirs.size() >= expected - (families.equals("all") ? 1 : 0),
                "expected the families " + families + " exported, got " + dirs);
        List<String> checked = new ArrayList<>();
        for (Path dir : dirs) {
            checkAgainstReference(dir);
            if (!NOT_IN_JAVA_GATE.contains(dir.getFileName().toString())) {
                checkJavaGateReDerivesReference(dir);
            }
            checked.add(dir.getFileName().toString());
        }
        System.out.println("ONNX Runtime Java + Gate match transformers exports: " + checked);
    }

    /** Java's gate on ORT Java's router logits chooses the same experts as the exporter's reference, every token. */
    private static void checkJavaGateReDerivesReference(Path dir) throws Exception {
        JsonObject sidecar = FixtureModelsTest.readJson(dir.resolve("moescope-export.json"));
        Gate gate = new Gate(GatingConfig.fromSidecar(dir.resolve("moescope-export.json")));
        Map<String, NpyArray> reference = NpyArray.readNpz(dir.resolve("reference.npz"));
        long[] mask = reference.get("attention_mask").longs();
        int experts = gate.config().numExperts();
        int k = gate.config().topK();
        int tokens = 0;
        try (OrtSession session = OrtReference.open(dir.resolve("model.onnx"))) {
            Map<String, OrtReference.Tensor> got = OrtReference.run(session, reference);
            for (var layer : sidecar.getAsJsonObject("model").getAsJsonArray("moe_layers")) {
                int l = layer.getAsInt();
                float[] logits = got.get("blocks." + l + ".router_logits").values();
                long[] chosen = reference.get("blocks." + l + ".topk_ids").longs();
                for (int t = 0; t < mask.length; t++) {
                    if (mask[t] == 0) {
                        continue;
                    }
                    Routing r = gate.route(logits, t * experts, l);
                    int[] java = Arrays.stream(r.experts()).sorted().toArray();
                    int[] ref = new int[k];
                    for (int j = 0; j < k; j++) {
                        ref[j] = (int) chosen[t * k + j];
                    }
                    Arrays.sort(ref);
                    assertArrayEquals(ref, java, dir.getFileName() + " layer " + l + " token " + t);
                    tokens++;
                }
            }
        }
        assertTrue(tokens > 0, dir + ": no token checked");
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
