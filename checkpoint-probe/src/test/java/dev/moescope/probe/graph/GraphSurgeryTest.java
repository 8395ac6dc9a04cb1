package dev.moescope.probe.graph;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.probe.gating.Gate;
import dev.moescope.probe.gating.GatingConfig;
import dev.moescope.probe.gating.Routing;
import dev.moescope.probe.run.HostTensor;
import dev.moescope.probe.run.OrtRunner;
import dev.moescope.probe.run.TokenBatch;
import dev.moescope.probe.testgraphs.OnnxGraphBuilder;
import dev.moescope.probe.testgraphs.TinyMoeGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.moescope.probe.testgraphs.TinyMoeGraph.E;
import static dev.moescope.probe.testgraphs.TinyMoeGraph.H;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Structural detection and surgery on a 2-layer MoE graph built in Java, checked by running the edited models with
 * ONNX Runtime against an independent Java computation of the same network.
 */
class GraphSurgeryTest {

    static final TinyMoeGraph NET = new TinyMoeGraph(7);
    static final long[][] SEQS = {{1, 5, 9, 3, 15, 0, 7}, {2, 2, 11, 4, 6, 8, 12}};
    static final long[] FLAT = {1, 5, 9, 3, 15, 0, 7, 2, 2, 11, 4, 6, 8, 12};
    static final TokenBatch BATCH = TokenBatch.pad(List.of(SEQS[0], SEQS[1]), 0);

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void writeModel() throws Exception {
        model = dir.resolve("tiny-moe.onnx");
        // weights as external data: surgery must keep them external and the edited copy must still find them
        OnnxGraphBuilder.write(NET.model(), model, true);
    }

    static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol, what + " [" + i + "]");
        }
    }

    static Map<String, HostTensor> run(Path m, Set<String> outputs) {
        try (OrtRunner r = OrtRunner.open(OrtRunner.Config.cpu(m, 1))) {
            return r.run(BATCH, outputs);
        }
    }

    /** Runs an edited copy of the fixture model, opened from memory (its weights stay external, beside the model). */
    static Map<String, HostTensor> run(ModelProto edited, Set<String> outputs) {
        try (OrtRunner r = OrtRunner.openEdited(OrtRunner.Config.cpu(model, 1), edited)) {
            return r.run(BATCH, outputs);
        }
    }

    static List<Path> listing() {
        try (var files = Files.list(dir)) {
            return files.sorted().toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void anEditedModelWhoseExternalWeightsAreMissingIsOneLineBadInputNamingTheModel() throws Exception {
        // the graph without its weight file: ORT must look beside this copy, find nothing, and say so in one line
        Path alone = Files.createDirectories(dir.resolve("alone")).resolve("tiny-moe.onnx");
        Files.copy(model, alone);
        ModelProto proto = ModelFiles.load(alone);
        MoescopeException e = assertThrows(MoescopeException.class,
                () -> OrtRunner.openEdited(OrtRunner.Config.cpu(alone, 1), GraphSurgery.overrideTopK(proto, 1, null)));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        assertTrue(e.getMessage().startsWith(alone + ": ONNX Runtime cannot load the edited model"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void detectsRoutersResidualsAndTopKFromStructureAlone() {
        ModelProto proto = ModelFiles.load(model);
        ProbeSpec spec = ProbeDetector.detect(proto, model);
        assertEquals("graph structure", spec.source());
        assertEquals(E, spec.numExperts());
        assertEquals("softmax-topk-renorm:e=4,k=2", spec.gating());
        assertEquals(2, spec.layers().size());
        for (int l = 0; l < 2; l++) {
            Map<String, String> h = spec.layer(l).hooks();
            String p = "/model/layers." + l;
            assertEquals(p + "/mlp/gate/MatMul_output_0", h.get(ProbeSpec.ROUTER_LOGITS));
            assertEquals(p + "/attn/Add_output_0", h.get(ProbeSpec.RESID_MID));
            assertEquals(p + "/mlp/ReduceSum_output_0", h.get(ProbeSpec.MOE_OUT));
            assertEquals(p + "/Add_1_output_0", h.get(ProbeSpec.RESID_POST));
        }
        assertEquals(2, spec.topK().size());
        assertEquals(0, spec.topK().get(0).layer());
        assertEquals(1, spec.topK().get(1).layer());
        assertEquals(2, spec.topK().get(0).k());
        // the weights stayed external: the parsed proto holds references, not bytes
        assertTrue(proto.getGraph().getInitializerList().stream().anyMatch(t -> t.getExternalDataCount() > 0));
    }

    @Test
    void exposedHooksEqualAnIndependentComputationAndJavaTopKEqualsTheGraphs() throws Exception {
        ModelProto proto = ModelFiles.load(model);
        ProbeSpec spec = ProbeDetector.detect(proto, model);
        Map<String, String> wanted = new LinkedHashMap<>(spec.allHooks());
        wanted.put("blocks.0.topk_ids", "/model/layers.0/mlp/TopK_indices");
        wanted.put("blocks.1.topk_ids", "/model/layers.1/mlp/TopK_indices");
        GraphSurgery.Exposed exposed = GraphSurgery.expose(proto, wanted);
        ModelProto edited = exposed.model();
        long external = edited.getGraph().getInitializerList().stream().filter(t -> t.getExternalDataCount() > 0).count();
        assertTrue(external >= 10, "the edited model still references its weights externally: " + external);
        assertTrue(edited.getGraph().getInitializerList().stream()
                .noneMatch(t -> t.getExternalDataCount() > 0 && !t.getRawData().isEmpty()));

        // opened from memory: the external weights resolve beside the original and nothing is written there
        List<Path> before = listing();
        Map<String, HostTensor> out = run(edited, Set.of());
        assertEquals(before, listing(), "opening an edited model writes nothing beside the original");
        TinyMoeGraph.Reference ref = NET.reference(FLAT, 2);
        assertClose(ref.logits, out.get("logits").floats(), 1e-4, "logits");
        Gate gate = new Gate(GatingConfig.parse(spec.gating(), 0));
        for (int l = 0; l < 2; l++) {
            assertClose(ref.routerLogits[l], out.get("blocks." + l + ".router_logits").floats(), 1e-4, "router " + l);
            assertClose(ref.residMid[l], out.get("blocks." + l + ".resid_mid").floats(), 1e-4, "resid_mid " + l);
            assertClose(ref.moeOut[l], out.get("blocks." + l + ".moe_out").floats(), 1e-4, "moe_out " + l);
            assertClose(ref.residPost[l], out.get("blocks." + l + ".resid_post").floats(), 1e-4, "resid_post " + l);
            HostTensor logits = out.get("blocks." + l + ".router_logits");
            long[] graphIds = out.get("blocks." + l + ".topk_ids").longs();
            assertArrayEquals(new long[]{FLAT.length, 2}, out.get("blocks." + l + ".topk_ids").shape());
            for (int t = 0; t < FLAT.length; t++) {
                Routing r = gate.route(logits.floats(), t * E, l);
                assertEquals(graphIds[2 * t], r.experts()[0], "layer " + l + " token " + t);
                assertEquals(graphIds[2 * t + 1], r.experts()[1], "layer " + l + " token " + t);
            }
        }
    }

    @Test
    void topKOverrideChangesTheModelExactlyAsTheReferenceDoes() {
        ModelProto proto = ModelFiles.load(model);
        float[] k2 = run(model, Set.of("logits")).get("logits").floats();
        for (int k : new int[]{1, 3, 4}) {
            int[] changed = new int[1];
            ModelProto swept = GraphSurgery.overrideTopK(proto, k, changed);
            assertEquals(2, changed[0]);
            float[] got = run(swept, Set.of("logits")).get("logits").floats();
            assertClose(NET.reference(FLAT, k).logits, got, 1e-4, "top-" + k);
            double diff = 0;
            for (int i = 0; i < got.length; i++) {
                diff = Math.max(diff, Math.abs(got[i] - k2[i]));
            }
            assertTrue(diff > 1e-2, "top-" + k + " differs from top-2: " + diff);
        }
        assertEquals(ExitCode.USAGE, assertThrows(MoescopeException.class,
                () -> GraphSurgery.overrideTopK(proto, 0, null)).exitCode());
    }

    @Test
    void rawAndRenormalisedWeightVariantsMatchTheReference() {
        ModelProto renorm = ModelFiles.load(model);
        int[] changed = new int[1];
        ModelProto raw = GraphSurgery.setRenormalisation(renorm, false, changed);
        assertEquals(2, changed[0]);
        for (int k : new int[]{1, 2}) {
            ModelProto swept = GraphSurgery.overrideTopK(raw, k, null);
            assertClose(NET.reference(FLAT, k, false).logits, run(swept, Set.of("logits")).get("logits").floats(), 1e-4,
                    "raw top-" + k);
        }
        assertEquals("softmax-topk:e=4,k=2", ProbeDetector.detect(raw, model).gating());
        // and back: inserting the renormalisation reproduces the original model
        ModelProto again = GraphSurgery.setRenormalisation(raw, true, changed);
        assertEquals(2, changed[0]);
        assertEquals("softmax-topk-renorm:e=4,k=2", ProbeDetector.detect(again, model).gating());
        assertClose(NET.reference(FLAT, 2).logits, run(again, Set.of("logits")).get("logits").floats(), 1e-4, "renormalised");
        MoescopeException e = assertThrows(MoescopeException.class, () -> GraphSurgery.setRenormalisation(renorm, true, null));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
    }

    @Test
    void aHookBecomesAnInputThatFeedsEverythingDownstream() {
        ModelProto proto = ModelFiles.load(model);
        ProbeSpec spec = ProbeDetector.detect(proto, model);
        // expose under hook names first: splicing through the alias must reach the real tensor
        GraphSurgery.Exposed exposed = GraphSurgery.expose(proto, spec.allHooks());
        String[] inputName = new String[1];
        ModelProto spliced = GraphSurgery.hookToInput(exposed.model(), "blocks.0.resid_post", inputName);
        assertEquals("/model/layers.0/Add_1_output_0", inputName[0]);
        TinyMoeGraph.Reference ref = NET.reference(FLAT, 2);
        try (OrtRunner r = OrtRunner.openEdited(OrtRunner.Config.cpu(model, 1), spliced)) {
            assertEquals(List.of(inputName[0]), r.inputs().extraNames());
            long[] shape = {FLAT.length, H};
            HostTensor same = new HostTensor(inputName[0], shape, "float", ref.residPost[0], null);
            float[] logits = r.run(BATCH, Set.of("logits"), Map.of(inputName[0], same)).get("logits").floats();
            assertClose(ref.logits, logits, 1e-4, "spliced with the true resid_post");
            float[] halved = ref.residPost[0].clone();
            for (int i = 0; i < halved.length; i++) {
                halved[i] *= 0.5f;
            }
            HostTensor other = new HostTensor(inputName[0], shape, "float", halved, null);
            Map<String, HostTensor> out = r.run(BATCH, Set.of("logits", "blocks.0.resid_post"), Map.of(inputName[0], other));
            assertClose(halved, out.get("blocks.0.resid_post").floats(), 0, "the hook output shows the fed value");
            float[] changed = out.get("logits").floats();
            double diff = 0;
            for (int i = 0; i < changed.length; i++) {
                diff = Math.max(diff, Math.abs(changed[i] - ref.logits[i]));
            }
            assertTrue(diff > 1e-2, "a different resid_post changes the logits: " + diff);
            MoescopeException e = assertThrows(MoescopeException.class, () -> r.run(BATCH, Set.of("logits")));
            assertTrue(e.getMessage().contains(inputName[0]), e.getMessage());
        }
        // the detached producer (layer 0's residual Add) is pruned; exposed layer-0 hooks keep their own inputs alive
        assertFalse(spliced.getGraph().getNodeList().stream()
                .anyMatch(n -> n.getOutputList().stream().anyMatch(o -> o.endsWith("/moescope_detached"))));
        ModelProto bare = GraphSurgery.hookToInput(proto, "/model/layers.1/attn/Add_output_0", null);
        assertFalse(bare.getGraph().getNodeList().stream()
                .anyMatch(n -> n.getOutputList().contains("/model/layers.0/mlp/gate/MatMul_output_0")),
                "with no hooks exposed, everything before the spliced tensor is pruned");
    }

    @Test
    void aGraphWithoutARouterIsBadInputPointingToSpec() throws Exception {
        OnnxGraphBuilder b = new OnnxGraphBuilder();
        b.input("input_ids", OnnxGraphBuilder.INT64, "batch", "seq");
        b.output("probs", OnnxGraphBuilder.FLOAT, "batch", "seq", 2000);
        b.init("emb", new float[16 * 8], 16, 8);
        b.init("w1", new float[8 * 8], 8, 8);
        b.init("lm", new float[8 * 2000], 8, 2000);
        String h = b.node("Gather", null, new String[]{"emb", "input_ids"});
        String mlp = b.node("Relu", null, new String[]{b.node("MatMul", null, new String[]{h, "w1"})});
        // attention-like softmax over activations, and a vocabulary softmax: neither is a router
        b.node("Softmax", null, new String[]{b.node("MatMul", null, new String[]{mlp, b.node("Transpose", null,
                new String[]{mlp}, OnnxGraphBuilder.intsAttr("perm", 0, 2, 1))})});
        b.node("Softmax", "probs", new String[]{b.node("MatMul", null, new String[]{mlp, "lm"})});
        Path dense = dir.resolve("dense.onnx");
        OnnxGraphBuilder.write(b.build(), dense, false);
        MoescopeException e = assertThrows(MoescopeException.class,
                () -> ProbeDetector.detect(ModelFiles.load(dense), dense));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        assertTrue(e.getMessage().startsWith(dense.toString() + ": no router found"), e.getMessage());
        assertTrue(e.getMessage().contains("--spec"), e.getMessage());
    }

    @Test
    void findsTheRouterOfAFusedMoeOpAndOfATransposedGemmWithSigmoid() {
        // com.microsoft.MoE: router MatMul -> Reshape -> MoE(router_probs); residual Add after it
        OnnxGraphBuilder b = new OnnxGraphBuilder();
        b.input("hidden", OnnxGraphBuilder.FLOAT, "tokens", 8);
        b.output("out", OnnxGraphBuilder.FLOAT, "tokens", 8);
        b.init("gate", new float[8 * 4], 8, 4);
        b.init("fc1", new float[4 * 8 * 6], 4, 6, 8);
        b.init("fc2", new float[4 * 6 * 8], 4, 8, 6);
        b.initLong("shape", new long[]{-1, 4}, 2);
        String logits = b.node("Reshape", "router_logits_r", new String[]{b.node("MatMul", null, new String[]{"hidden", "gate"}), "shape"});
        b.nodeMulti("MoE", "/moe/MoE", "com.microsoft", new String[]{"hidden", logits, "fc1", "", "fc2"},
                new String[]{"moe_output"}, OnnxGraphBuilder.intAttr("k", 2),
                OnnxGraphBuilder.intAttr("normalize_routing_weights", 1), OnnxGraphBuilder.stringAttr("activation_type", "relu"));
        b.node("Add", "out", new String[]{"hidden", "moe_output"});
        ProbeSpec fused = ProbeDetector.detect(b.build(), Path.of("fused.onnx"));
        assertEquals("router_logits_r", fused.layer(0).hooks().get(ProbeSpec.ROUTER_LOGITS));
        assertEquals("moe_output", fused.layer(0).hooks().get(ProbeSpec.MOE_OUT));
        assertEquals("hidden", fused.layer(0).hooks().get(ProbeSpec.RESID_MID));
        assertEquals("ort-moe:e=4,k=2,normalize=true", fused.gating());
        assertEquals("com.microsoft.MoE", fused.topK().get(0).op());
        int[] changed = new int[1];
        ModelProto k1 = GraphSurgery.overrideTopK(b.build(), 1, changed);
        assertEquals(1, GraphIndex.intAttr(k1.getGraph().getNode(2), "k", 0));

        // DeepSeek-V3 style: Gemm with [E, hidden] weight and transB, + bias, Sigmoid, + correction bias, TopK
        OnnxGraphBuilder g = new OnnxGraphBuilder();
        g.input("x", OnnxGraphBuilder.FLOAT, "tokens", 8);
        g.output("idx", OnnxGraphBuilder.INT64, "tokens", 2);
        g.init("w", new float[16 * 8], 16, 8);
        g.init("b", new float[16], 16);
        g.init("corr", new float[16], 16);
        g.initLong("k", new long[]{2}, 1);
        String lg = g.node("Gemm", "gemm_out", new String[]{"x", "w"}, OnnxGraphBuilder.intAttr("transB", 1));
        String biased = g.node("Add", "router_out", new String[]{lg, "b"});
        String sig = g.node("Sigmoid", null, new String[]{biased});
        String choice = g.node("Add", null, new String[]{sig, "corr"});
        g.nodeMulti("TopK", "topk", null, new String[]{choice, "k"}, new String[]{"vals", "idx"});
        ProbeSpec v3 = ProbeDetector.detect(g.build(), Path.of("v3.onnx"));
        assertEquals(16, v3.numExperts());
        assertEquals("router_out", v3.layer(0).hooks().get(ProbeSpec.ROUTER_LOGITS));
        assertTrue(v3.gating().startsWith("sigmoid-grouped:e=16,k=2"), v3.gating());
        assertEquals(0, v3.topK().get(0).layer());
    }

    @Test
    void namedHookOutputsAreUsedAsTheyAre() {
        OnnxGraphBuilder b = new OnnxGraphBuilder();
        b.input("x", OnnxGraphBuilder.FLOAT, "tokens", 8);
        b.output("blocks.0.router_logits", OnnxGraphBuilder.FLOAT, "tokens", 4);
        b.output("blocks.0.resid_post", OnnxGraphBuilder.FLOAT, "tokens", 8);
        b.init("w", new float[8 * 4], 8, 4);
        String lg = b.node("MatMul", "lg", new String[]{"x", "w"});
        b.node("Identity", "blocks.0.router_logits", new String[]{lg});
        b.node("Identity", "blocks.0.resid_post", new String[]{b.node("Relu", null, new String[]{"x"})});
        ProbeSpec s = ProbeDetector.detect(b.build(), Path.of("hooked.onnx"));
        assertEquals("hook outputs", s.source());
        assertEquals("blocks.0.router_logits", s.layer(0).hooks().get(ProbeSpec.ROUTER_LOGITS));
        assertEquals("blocks.0.resid_post", s.layer(0).hooks().get(ProbeSpec.RESID_POST));
        assertNull(s.gating());
        // exposing an existing hook output is a no-op
        GraphSurgery.Exposed e = GraphSurgery.expose(b.build(), s.allHooks());
        assertEquals(2, e.model().getGraph().getOutputCount());
        assertEquals("blocks.0.router_logits", e.outputs().get("blocks.0.router_logits"));
    }

    @Test
    void anEditedSpecRoundTripsAndIsCheckedAgainstTheGraph() throws Exception {
        ModelProto proto = ModelFiles.load(model);
        ProbeSpec spec = ProbeDetector.detect(proto, model);
        Path file = dir.resolve("spec.json");
        Files.writeString(file, spec.toJson());
        ProbeSpec back = ProbeSpec.read(file);
        assertEquals("spec file", back.source());
        assertEquals(spec.layers(), back.layers());
        assertEquals(spec.topK(), back.topK());
        back.validate(new GraphIndex(proto.getGraph()), file);

        Files.writeString(file, spec.toJson().replace("/model/layers.1/mlp/gate/MatMul_output_0", "no/such/tensor"));
        ProbeSpec bad = ProbeSpec.read(file);
        MoescopeException e = assertThrows(MoescopeException.class, () -> bad.validate(new GraphIndex(proto.getGraph()), file));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        assertTrue(e.getMessage().startsWith(file + ": layer 1 hook router_logits: no tensor 'no/such/tensor'"), e.getMessage());
    }

    @Test
    void missingOrCorruptModelFilesAreOneLineBadInput() throws Exception {
        Path missing = dir.resolve("nope.onnx");
        MoescopeException e = assertThrows(MoescopeException.class, () -> ModelFiles.load(missing));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        assertEquals(missing + ": no such model file", e.getMessage());
        Path garbage = dir.resolve("garbage.onnx");
        Files.writeString(garbage, "this is not a protobuf \u0000\u00ff\u00fe at all, but text with bytes");
        e = assertThrows(MoescopeException.class, () -> ModelFiles.load(garbage));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        assertTrue(e.getMessage().startsWith(garbage + ": not a valid ONNX model"), e.getMessage());
        Path empty = dir.resolve("empty.onnx");
        Files.write(empty, new byte[0]);
        e = assertThrows(MoescopeException.class, () -> ModelFiles.load(empty));
        assertTrue(e.getMessage().startsWith(empty + ": not a valid ONNX model"), e.getMessage());
        Path truncated = dir.resolve("truncated.onnx");
        byte[] whole = Files.readAllBytes(model);
        Files.write(truncated, java.util.Arrays.copyOf(whole, whole.length / 2));
        e = assertThrows(MoescopeException.class, () -> ModelFiles.load(truncated));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        assertFalse(e.getMessage().contains("\n"));
    }
}
