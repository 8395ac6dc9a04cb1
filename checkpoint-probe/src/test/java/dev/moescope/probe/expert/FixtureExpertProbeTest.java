package dev.moescope.probe.expert;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.ByteString;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.fixtures.Fixtures;
import dev.moescope.probe.capture.CorpusProbe;
import dev.moescope.probe.corpus.CorpusReader;
import dev.moescope.probe.corpus.TextTokenizer;
import dev.moescope.probe.corpus.Window;
import dev.moescope.probe.graph.ModelFiles;
import dev.moescope.probe.graph.ProbeDetector;
import dev.moescope.probe.graph.ProbeSpec;
import dev.moescope.probe.run.OrtRunner;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The expert probe on the fixture MoE (Mixtral-style SwiGLU, top-2 renormalised): Σ w_i E_i(x) recomputed in Java
 * from the sidecar's initializers equals the captured {@code moe_out} in every layer, the last layer's lens equals
 * the model's logits, the logits-only export (everything found by graph surgery) gives the same report as the
 * hooked one, the fused 3-D layouts (inline and as external data) give the same experts, and a sidecar that names
 * the wrong experts is caught by the recomputation check.
 */
class FixtureExpertProbeTest {

    @TempDir
    static Path dir;
    static List<List<Window>> batches;
    static ExpertProbe.Report hookedReport;

    @BeforeAll
    static void setUp() throws IOException {
        batches = new ArrayList<>();
        try (TextTokenizer tok = TextTokenizer.open(Fixtures.path(Fixtures.TOKENIZER), 0)) {
            // 2 documents per domain (about 5,000 tokens): every domain, several documents' last tokens
            CorpusProbe.forEachBatch(Fixtures.path(Fixtures.CORPUS), new CorpusReader.Options("text", "domain",
                    null, 0), tok, new CorpusProbe.Options(128, 16, 4, 0), batches::add);
        }
        batches = keepDocsPerDomain(batches, 2);
        hookedReport = run(copyModel(Fixtures.MOE_MODEL, "hooked"));
    }

    /** The windows of the first {@code n} documents of each domain, re-batched by 4. */
    static List<List<Window>> keepDocsPerDomain(List<List<Window>> all, int n) {
        java.util.Map<String, Set<Long>> docs = new java.util.HashMap<>();
        List<Window> kept = new ArrayList<>();
        for (List<Window> b : all) {
            for (Window w : b) {
                Set<Long> d = docs.computeIfAbsent(w.domain(), z -> new TreeSet<>());
                if (d.contains(w.doc()) || d.size() < n) {
                    d.add(w.doc());
                    kept.add(w);
                }
            }
        }
        List<List<Window>> out = new ArrayList<>();
        for (int i = 0; i < kept.size(); i += 4) {
            out.add(kept.subList(i, Math.min(kept.size(), i + 4)));
        }
        return out;
    }

    static Path copyModel(String fixture, String name) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        for (String f : List.of(Fixtures.MODEL_FILE, Fixtures.SIDECAR_FILE)) {
            Files.copy(Fixtures.path(fixture).resolve(f), d.resolve(f));
        }
        return d.resolve(Fixtures.MODEL_FILE);
    }

    static ExpertProbe.Report run(Path model) {
        ModelProto proto = ModelFiles.load(model);
        ProbeSpec spec = ProbeDetector.detect(proto, model);
        try (ExpertProbe p = ExpertProbe.open(model, proto, spec, ExpertSidecar.besideModel(model),
                OrtRunner.Config.cpu(model, 1), new ExpertProbe.Config(2, 64L << 20))) {
            batches.forEach(p::accept);
            return p.report();
        }
    }

    static double cosine(ExpertProbe.Report r, String variant, int layer, String domain, String scope) {
        return r.cosine().stream().filter(c -> c.variant().equals(variant) && c.layer() == layer
                        && c.domain().equals(domain) && c.scope().equals(scope))
                .findFirst().orElseThrow().meanCosine();
    }

    @Test
    void recomputedExpertsEqualMoeOutAndTheLastLayerLensEqualsTheLogits() {
        ExpertProbe.Report r = hookedReport;
        assertEquals(4, r.layers().size());
        assertTrue(r.tokens() > 3000, "tokens " + r.tokens());
        for (ExpertProbe.Layer l : r.layers()) {
            System.out.printf("layer %d: max |sum w_i E_i(x) - moe_out| = %.3g (max |moe_out| %.3g), mean w1 %.3f, "
                    + "mean p1 %.3f%n", l.layer(), l.recomputeMaxAbsDiff(), l.moeOutMaxAbs(), l.meanTopWeight(),
                    l.meanTopRawScore());
            assertEquals(r.tokens(), l.tokens());
            assertTrue(l.recomputeMaxAbsDiff() < 1e-4, "layer " + l.layer() + ": " + l.recomputeMaxAbsDiff());
            assertTrue(l.moeOutMaxAbs() > 0.1, "moe_out is not trivially zero");
            // Mixtral top-2 renormalised: w1 in [0.5, 1], p1 <= w1
            assertTrue(l.meanTopWeight() >= 0.5 && l.meanTopWeight() <= 1);
            assertTrue(l.meanTopRawScore() < l.meanTopWeight());
        }
        System.out.printf("last layer lens vs logits: %.3g%n", r.lastLayerLensMaxAbsDiff());
        assertTrue(r.lastLayerLensMaxAbsDiff() < 1e-3, "lens of the last layer = logits: " + r.lastLayerLensMaxAbsDiff());
        assertEquals("renormalised", r.modelTop1Variant());
        for (String v : List.of("raw", "renormalised", "mixture_weight", "moe_interp", "moe_interp_row0",
                "expert_only")) {
            StringBuilder line = new StringBuilder(v + " cos by layer (all tokens):");
            for (int l = 0; l < 4; l++) {
                double c = cosine(r, v, l, ExpertProbe.ALL, ExpertProbe.ALL_TOKENS);
                line.append(String.format(" %.4f", c));
                assertTrue(c > 0 && c < 0.99999, v + " layer " + l + ": " + c);
                for (String d : Fixtures.DOMAINS) {
                    double dc = cosine(r, v, l, d, ExpertProbe.ALL_TOKENS);
                    assertTrue(dc > -1 && dc <= 1);
                }
                assertTrue(cosine(r, v, l, ExpertProbe.ALL, ExpertProbe.LAST_TOKEN) > -1);
            }
            System.out.println(line);
        }
        for (ExpertProbe.LensAgreement a : r.lens()) {
            assertTrue(a.withLayerOutput() >= 0 && a.withLayerOutput() <= 1);
        }
        // 3 corrected variants of the top expert + the rank-2 expert, per layer
        long lensRows = r.lens().stream().filter(a -> a.domain().equals(ExpertProbe.ALL)).count();
        assertEquals(4 * 4, lensRows);
        for (ExpertProbe.LensAgreement a : r.lens()) {
            if (a.domain().equals(ExpertProbe.ALL)) {
                System.out.printf("lens %s rank %d layer %d: = H^k lens %.3f, = model top-1 %.3f%n", a.variant(),
                        a.expertRank(), a.layer(), a.withLayerOutput(), a.withModel());
            }
        }
    }

    @Test
    void theLogitsOnlyExportFoundBySurgeryGivesTheSameReport() throws IOException {
        ExpertProbe.Report plain = run(copyModel(Fixtures.MOE_LOGITS_ONLY_MODEL, "plain"));
        assertEquals(hookedReport.tokens(), plain.tokens());
        for (int l = 0; l < 4; l++) {
            assertTrue(plain.layers().get(l).recomputeMaxAbsDiff() < 1e-4);
            for (String v : List.of("raw", "renormalised", "mixture_weight", "moe_interp", "moe_interp_row0",
                "expert_only")) {
                assertEquals(cosine(hookedReport, v, l, ExpertProbe.ALL, ExpertProbe.ALL_TOKENS),
                        cosine(plain, v, l, ExpertProbe.ALL, ExpertProbe.ALL_TOKENS), 1e-5, v + " layer " + l);
            }
        }
    }

    /** Rewrites the fixture's per-expert weights as fused 3-D initializers, inline or as external data. */
    static Path fusedCopy(String name, boolean transposed, boolean external) throws IOException {
        Path model = copyModel(Fixtures.MOE_MODEL, name);
        ModelProto proto = ModelFiles.load(model);
        Initializers init = new Initializers(proto, model);
        JsonObject sidecar = JsonParser.parseString(Files.readString(ExpertSidecar.besideModel(model))).getAsJsonObject();
        JsonObject weights = sidecar.getAsJsonObject("model").getAsJsonObject("moe_weights");
        var g = proto.getGraph().toBuilder();
        Path data = model.resolveSibling("fused.bin");
        java.io.ByteArrayOutputStream ext = new java.io.ByteArrayOutputStream();
        for (String layer : weights.keySet()) {
            JsonObject w = weights.getAsJsonObject(layer);
            int e = w.getAsJsonArray("gate").size();
            int h = 96;
            int i = 96;
            float[] gu = new float[e * 2 * i * h];
            float[] dn = new float[e * h * i];
            for (int x = 0; x < e; x++) {
                float[] gate = init.read(w.getAsJsonArray("gate").get(x).getAsString(), 0, i * h);
                float[] up = init.read(w.getAsJsonArray("up").get(x).getAsString(), 0, i * h);
                float[] down = init.read(w.getAsJsonArray("down").get(x).getAsString(), 0, h * i);
                for (int r = 0; r < i; r++) {
                    for (int c = 0; c < h; c++) {
                        if (transposed) { // [E, H, 2I]
                            gu[x * 2 * i * h + c * 2 * i + r] = gate[r * h + c];
                            gu[x * 2 * i * h + c * 2 * i + i + r] = up[r * h + c];
                        } else {          // [E, 2I, H]
                            gu[x * 2 * i * h + r * h + c] = gate[r * h + c];
                            gu[x * 2 * i * h + (i + r) * h + c] = up[r * h + c];
                        }
                    }
                }
                for (int r = 0; r < h; r++) {
                    for (int c = 0; c < i; c++) {
                        // down stays [E, H, I]: with I = H = 96 the transposed [E, I, H] has the same shape, and
                        // an ambiguous shape is read as the exporter computes it (F.linear, [E, H, I])
                        dn[x * h * i + r * i + c] = down[r * i + c];
                    }
                }
            }
            String guName = "fused." + layer + ".gate_up";
            String dnName = "fused." + layer + ".down";
            g.addInitializer(tensor(guName, gu, transposed ? new long[]{e, h, 2L * i} : new long[]{e, 2L * i, h},
                    external, ext, data));
            g.addInitializer(tensor(dnName, dn, new long[]{e, h, i}, external, ext, data));
            JsonObject fused = new JsonObject();
            fused.addProperty("router", w.get("router").getAsString());
            fused.addProperty("layout", "fused_gate_up [E, 2I, H] gate rows first; down [E, H, I]");
            fused.addProperty("gate_up", guName);
            fused.addProperty("down", dnName);
            weights.add(layer, fused);
        }
        if (external) {
            Files.write(data, ext.toByteArray());
        }
        Files.write(model, proto.toBuilder().setGraph(g).build().toByteArray());
        Files.writeString(ExpertSidecar.besideModel(model), sidecar.toString());
        return model;
    }

    static TensorProto tensor(String name, float[] v, long[] dims, boolean external, java.io.ByteArrayOutputStream ext,
                              Path data) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
        for (long d : dims) {
            t.addDims(d);
        }
        if (external) {
            long offset = ext.size();
            ext.writeBytes(b.array());
            t.setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(data.getFileName().toString()))
                    .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue(Long.toString(offset)))
                    .addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue(Long.toString(v.length * 4L)));
        } else {
            t.setRawData(ByteString.copyFrom(b.array()));
        }
        return t.build();
    }

    @Test
    void fusedLayoutsInlineAndExternalGiveTheSameExperts() throws IOException {
        for (boolean transposed : new boolean[]{false, true}) {
            Path model = fusedCopy("fused-" + transposed, transposed, transposed);
            ExpertSidecar s = ExpertSidecar.read(ExpertSidecar.besideModel(model));
            assertEquals(ExpertSidecar.Layout.FUSED_GATE_UP, s.layers().get(2).layout());
            ModelProto proto = ModelFiles.load(model);
            try (Initializers init = new Initializers(proto, model)) {
                ExpertWeights fused = new ExpertWeights(init, s, 96, 1L << 20);
                ExpertSidecar orig = ExpertSidecar.read(Fixtures.path(Fixtures.MOE_MODEL).resolve(Fixtures.SIDECAR_FILE));
                ExpertWeights linear = new ExpertWeights(init, orig, 96, 1L << 20);
                for (int e : new int[]{0, 5, 7}) {
                    ExpertWeights.Expert a = fused.expert(2, e);
                    ExpertWeights.Expert b = linear.expert(2, e);
                    String what = (transposed ? "[E, H, 2I] external" : "[E, 2I, H] inline") + " expert " + e;
                    assertArrayEquals(b.gate(), a.gate(), what + " gate");
                    assertArrayEquals(b.up(), a.up(), what + " up");
                    assertArrayEquals(b.down(), a.down(), what + " down");
                }
            }
        }
        // end to end through the recomputation check, on the external [E, H, 2I] copy
        ExpertProbe.Report r = run(dir.resolve("fused-true").resolve(Fixtures.MODEL_FILE));
        for (ExpertProbe.Layer l : r.layers()) {
            assertTrue(l.recomputeMaxAbsDiff() < 1e-4, "fused layer " + l.layer() + ": " + l.recomputeMaxAbsDiff());
        }
    }

    @Test
    void aSidecarNamingTheWrongExpertsFailsTheRecomputationCheck() throws IOException {
        Path model = copyModel(Fixtures.MOE_MODEL, "rotated");
        Path file = ExpertSidecar.besideModel(model);
        JsonObject sidecar = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        JsonObject w = sidecar.getAsJsonObject("model").getAsJsonObject("moe_weights").getAsJsonObject("1");
        for (String role : List.of("gate", "up", "down")) {
            JsonArray a = w.getAsJsonArray(role);
            JsonArray rotated = new JsonArray();
            for (int i = 0; i < a.size(); i++) {
                rotated.add(a.get((i + 1) % a.size()));
            }
            w.add(role, rotated);
        }
        Files.writeString(file, sidecar.toString());
        ExpertProbe.Report r = run(model);
        assertTrue(r.layers().get(0).recomputeMaxAbsDiff() < 1e-4);
        assertTrue(r.layers().get(1).recomputeMaxAbsDiff() > 1e-2, "rotated experts: " + r.layers().get(1).recomputeMaxAbsDiff());
    }

    /**
     * Declaring a shared expert the fixture does not have: its output is taken as moe_out − Σ routed (zero up to
     * rounding here), so the cosines stay those of the hooked run and the recomputation check is reported as NaN
     * (nothing independent is left to compare).
     */
    @Test
    void sharedExpertsAreDerivedFromMoeOutAndDisableTheCheck() throws IOException {
        Path model = copyModel(Fixtures.MOE_MODEL, "shared");
        Path file = ExpertSidecar.besideModel(model);
        JsonObject sidecar = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        sidecar.getAsJsonObject("gating").addProperty("shared_experts", 1);
        Files.writeString(file, sidecar.toString());
        ExpertProbe.Report r = run(model);
        assertEquals(1, r.sharedExperts());
        for (int l = 0; l < 4; l++) {
            assertTrue(Double.isNaN(r.layers().get(l).recomputeMaxAbsDiff()));
            for (String v : List.of("raw", "renormalised", "mixture_weight", "moe_interp", "moe_interp_row0",
                "expert_only")) {
                assertEquals(cosine(hookedReport, v, l, ExpertProbe.ALL, ExpertProbe.ALL_TOKENS),
                        cosine(r, v, l, ExpertProbe.ALL, ExpertProbe.ALL_TOKENS), 1e-5, v + " layer " + l);
            }
        }
    }

    @Test
    void unsupportedLayoutsAndMissingSidecarsAreOneLineBadInput() throws IOException {
        Path model = copyModel(Fixtures.MOE_MODEL, "gptoss");
        Path file = ExpertSidecar.besideModel(model);
        JsonObject sidecar = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        sidecar.getAsJsonObject("model").getAsJsonObject("moe_weights").getAsJsonObject("0")
                .addProperty("layout", "gpt_oss: gate_up [E, H, 2I] interleaved (gate even, up odd columns) + bias");
        Files.writeString(file, sidecar.toString());
        MoescopeException e = assertThrows(MoescopeException.class, () -> ExpertSidecar.read(file));
        assertTrue(e.getMessage().contains("GPT-OSS") && e.getMessage().contains("model.moe_weights.0"), e.getMessage());
        assertEquals(3, e.exitCode().code());
        Files.delete(file);
        e = assertThrows(MoescopeException.class, () -> ExpertSidecar.read(file));
        assertTrue(e.getMessage().contains("--sidecar"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }
}
