package dev.moescope.probe.run;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.probe.testgraphs.OnnxGraphBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static dev.moescope.probe.testgraphs.OnnxGraphBuilder.FLOAT;
import static dev.moescope.probe.testgraphs.OnnxGraphBuilder.FLOAT16;
import static dev.moescope.probe.testgraphs.OnnxGraphBuilder.INT64;
import static dev.moescope.probe.testgraphs.OnnxGraphBuilder.intAttr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** The ONNX Runtime runner: decoder inputs, zero-length past, fp16 outputs, devices, and no native leaks. */
class OrtRunnerTest {

    static final int V = 32;
    static final int H = 8;
    static final int P = 16;
    static float[] emb;
    static float[] pos;

    @TempDir
    static Path dir;
    static Path decoder;

    /**
     * A decoder-shaped graph: hidden = (emb[input_ids] + pos[position_ids]) · mask, also as fp16; present.0.key =
     * Concat(past_key_values.0.key, new keys) along the past axis; past_key_values.0.value (fp16) is folded in by a
     * ReduceSum so that it is a used input.
     */
    @BeforeAll
    static void build() throws IOException {
        Random r = new Random(3);
        emb = new float[V * H];
        pos = new float[P * H];
        for (int i = 0; i < emb.length; i++) {
            emb[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < pos.length; i++) {
            pos[i] = (float) r.nextGaussian();
        }
        OnnxGraphBuilder b = new OnnxGraphBuilder();
        b.input("input_ids", INT64, "batch", "seq");
        b.input("attention_mask", INT64, "batch", "total");
        b.input("position_ids", INT64, "batch", "seq");
        b.input("past_key_values.0.key", FLOAT, "batch", 2, "past", 4);
        b.input("past_key_values.0.value", FLOAT16, "batch", 2, "past", 4);
        b.output("hidden", FLOAT, "batch", "seq", H);
        b.output("hidden_fp16", FLOAT16, "batch", "seq", H);
        b.output("present.0.key", FLOAT, "batch", 2, "total", 4);
        b.output("value_sum", FLOAT16);
        b.init("emb", emb, V, H);
        b.init("pos", pos, P, H);
        b.initLong("last", new long[]{-1}, 1);
        b.initLong("kv_shape", new long[]{0, 0, 2, 4}, 4);
        String sum = b.node("Add", null, new String[]{b.node("Gather", null, new String[]{"emb", "input_ids"}),
                b.node("Gather", null, new String[]{"pos", "position_ids"})});
        String mask = b.node("Cast", null, new String[]{b.node("Unsqueeze", null, new String[]{"attention_mask", "last"})},
                intAttr("to", FLOAT));
        String hidden = b.node("Mul", "hidden", new String[]{sum, mask});
        b.node("Cast", "hidden_fp16", new String[]{hidden}, intAttr("to", FLOAT16));
        String keys = b.node("Transpose", null, new String[]{b.node("Reshape", null, new String[]{hidden, "kv_shape"})},
                OnnxGraphBuilder.intsAttr("perm", 0, 2, 1, 3));
        b.node("Concat", "present.0.key", new String[]{"past_key_values.0.key", keys}, intAttr("axis", 2));
        b.node("ReduceSum", "value_sum", new String[]{"past_key_values.0.value"}, intAttr("keepdims", 0));
        decoder = dir.resolve("decoder.onnx");
        OnnxGraphBuilder.write(b.build(), decoder, false);
    }

    @Test
    void fillsDecoderInputsWithPaddingMasksPositionsAndEmptyPast() {
        TokenBatch batch = TokenBatch.pad(List.of(new long[]{3, 1, 4, 1, 5}, new long[]{9, 2}), 0);
        assertArrayEquals(new long[]{1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, batch.attentionMask());
        assertArrayEquals(new long[]{0, 1, 2, 3, 4, 0, 1, 1, 1, 1}, batch.positionIds());
        try (OrtRunner r = OrtRunner.open(OrtRunner.Config.cpu(decoder, 1))) {
            assertEquals("cpu", r.deviceUsed());
            List<ModelInputs.Role> roles = r.inputs().inputs().stream().map(ModelInputs.Input::role).toList();
            assertTrue(roles.containsAll(List.of(ModelInputs.Role.INPUT_IDS, ModelInputs.Role.ATTENTION_MASK,
                    ModelInputs.Role.POSITION_IDS, ModelInputs.Role.PAST)), roles.toString());
            Map<String, HostTensor> out = r.run(batch, Set.of());
            HostTensor hidden = out.get("hidden");
            assertArrayEquals(new long[]{2, 5, H}, hidden.shape());
            long[] pids = batch.positionIds();
            long[] m = batch.attentionMask();
            for (int t = 0; t < 10; t++) {
                for (int j = 0; j < H; j++) {
                    float expect = m[t] == 0 ? 0f : emb[(int) batch.ids()[t] * H + j] + pos[(int) pids[t] * H + j];
                    assertEquals(expect, hidden.floats()[t * H + j], 1e-6);
                }
            }
            HostTensor half = out.get("hidden_fp16");
            assertEquals("float16", half.sourceType());
            for (int i = 0; i < half.floats().length; i++) {
                float f = hidden.floats()[i];
                assertEquals(f, half.floats()[i], Math.abs(f) * 1e-3 + 1e-4, "fp16 value " + i);
            }
            // the empty past (length 0) leaves present = the new keys only
            assertArrayEquals(new long[]{2, 2, 5, 4}, out.get("present.0.key").shape());
            assertEquals(0f, out.get("value_sum").floats()[0]);
            MoescopeException e = assertThrows(MoescopeException.class, () -> r.run(batch, Set.of("nope")));
            assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        }
    }

    @Test
    void nativeMemoryStaysFlatOverManyBatches() throws IOException {
        // 1 MiB of output per run: an unclosed result or tensor would leak 1 MiB of native memory per run.
        // Resident size minus the committed Java heap is the native part (the heap itself grows and shrinks
        // with the copied outputs, which is not a leak).
        TokenBatch batch = TokenBatch.pad(List.of(new long[16], new long[16]), 0);
        try (OrtRunner r = OrtRunner.open(OrtRunner.Config.cpu(wide(), 1))) {
            long[] nativeKiB = new long[4];
            for (int phase = 0; phase < 4; phase++) {
                for (int i = 0; i < 300; i++) {
                    Map<String, HostTensor> out = r.run(batch, Set.of("wide"));
                    assertEquals(2L * 16 * 8192, out.get("wide").size());
                }
                System.gc();
                nativeKiB[phase] = rssKiB() - Runtime.getRuntime().totalMemory() / 1024;
                System.out.println("after " + (phase + 1) * 300 + " runs: rss " + rssKiB() + " KiB, heap committed "
                        + Runtime.getRuntime().totalMemory() / 1024 + " KiB");
            }
            long grown = nativeKiB[3] - nativeKiB[0];
            assertTrue(grown < 300 * 1024, "native memory grew by " + grown + " KiB over 900 runs of 1 MiB outputs");
        }
    }

    /** emb[V, 8192] gathered: a [2, 16, 8192] float output. */
    private static Path wide() throws IOException {
        Path p = dir.resolve("wide.onnx");
        if (!Files.exists(p)) {
            OnnxGraphBuilder b = new OnnxGraphBuilder();
            b.input("input_ids", INT64, "batch", "seq");
            b.output("wide", FLOAT, "batch", "seq", 8192);
            b.init("emb", new float[4 * 8192], 4, 8192);
            b.node("Gather", "wide", new String[]{"emb", "input_ids"});
            OnnxGraphBuilder.write(b.build(), p, false);
        }
        return p;
    }

    static long rssKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    @Test
    void cudaWithoutItsProviderFailsClearlyAndAutoFallsBack() {
        assumeFalse(OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA),
                "this build has a CUDA provider; the failure path cannot be shown here");
        MoescopeException e = assertThrows(MoescopeException.class,
                () -> OrtRunner.open(new OrtRunner.Config(decoder, Device.parse("cuda:0"), 1, null)));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        assertTrue(e.getMessage().startsWith("--device cuda:0: the CUDA execution provider cannot be loaded"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        try (OrtRunner r = OrtRunner.open(new OrtRunner.Config(decoder, Device.parse("auto"), 1, null))) {
            assertEquals("cpu", r.deviceUsed());
            assertTrue(r.deviceNote().startsWith("--device auto: CUDA unavailable"), r.deviceNote());
        }
    }

    @Test
    void deviceOptionAndBadModelFiles() throws IOException {
        assertEquals(new Device(Device.Kind.CUDA, 2), Device.parse("cuda:2"));
        assertEquals(Device.CPU, Device.parse("CPU"));
        for (String bad : new String[]{"gpu", "cuda:-1", "cuda:x"}) {
            assertEquals(ExitCode.USAGE, assertThrows(MoescopeException.class, () -> Device.parse(bad)).exitCode());
        }
        Path missing = dir.resolve("missing.onnx");
        MoescopeException e = assertThrows(MoescopeException.class, () -> OrtRunner.open(OrtRunner.Config.cpu(missing, 1)));
        assertEquals(missing + ": no such model file", e.getMessage());
        Path corrupt = dir.resolve("corrupt.onnx");
        Files.writeString(corrupt, "not a model");
        e = assertThrows(MoescopeException.class, () -> OrtRunner.open(OrtRunner.Config.cpu(corrupt, 1)));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        assertTrue(e.getMessage().startsWith(corrupt + ": ONNX Runtime cannot load the model"), e.getMessage());
        // an input the runner cannot fill is named
        OnnxGraphBuilder b = new OnnxGraphBuilder();
        b.input("input_ids", INT64, "batch", "seq");
        b.input("pixel_mask", INT64, "batch", "seq");
        b.output("s", INT64, "batch", "seq");
        b.node("Add", "s", new String[]{"input_ids", "pixel_mask"});
        Path odd = dir.resolve("odd.onnx");
        OnnxGraphBuilder.write(b.build(), odd, false);
        e = assertThrows(MoescopeException.class, () -> OrtRunner.open(OrtRunner.Config.cpu(odd, 1)));
        assertTrue(e.getMessage().startsWith(odd + ": input 'pixel_mask' is not one moescope can fill"), e.getMessage());
    }
}
