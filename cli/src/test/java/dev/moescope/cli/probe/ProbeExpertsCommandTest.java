package dev.moescope.cli.probe;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.cli.CliRun;
import dev.moescope.fixtures.Fixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.moescope.cli.probe.ProbeInspectCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code moescope probe experts} end to end on the fixture MoE's logits-only export, and its bad-input errors. */
class ProbeExpertsCommandTest {

    @TempDir
    static Path dir;
    static Path model;
    static Path corpus;

    @BeforeAll
    static void setUp() throws IOException {
        Path d = Files.createDirectories(dir.resolve("moe"));
        for (String f : List.of(Fixtures.MODEL_FILE, Fixtures.SIDECAR_FILE)) {
            Files.copy(Fixtures.path(Fixtures.MOE_LOGITS_ONLY_MODEL).resolve(f), d.resolve(f));
        }
        model = d.resolve(Fixtures.MODEL_FILE);
        corpus = Files.createDirectories(dir.resolve("corpus"));
        for (String domain : Fixtures.DOMAINS) {
            List<String> lines = new ArrayList<>();
            try (BufferedReader r = Files.newBufferedReader(Fixtures.path(Fixtures.CORPUS + "/" + domain + ".jsonl"))) {
                lines.add(r.readLine());
            }
            Files.write(corpus.resolve(domain + ".jsonl"), lines);
        }
    }

    static List<String> args(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("probe", "experts", model.toString(), "--tokenizer",
                Fixtures.path(Fixtures.TOKENIZER).toString(), "--corpus", corpus.toString(), "--seq-len", "128",
                "--batch", "4", "--out", out.toString(), "--no-progress", "--threads", "1"));
        a.addAll(List.of(extra));
        return a;
    }

    @Test
    void writesCosinesLensAgreementFiguresAndTheRecomputationCheck() throws IOException {
        Path out = dir.resolve("experts");
        CliRun r = run(args(out).toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("4 documents"), r.out());
        assertTrue(r.out().contains("the model's own top-1 is renormalised"), r.out());
        assertTrue(r.out().contains("last layer lens vs model logits"), r.out());
        JsonObject s = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject();
        assertEquals("probe experts", s.getAsJsonObject("provenance").get("operation").getAsString());
        JsonObject report = s.getAsJsonObject("report");
        assertTrue(report.get("lastLayerLensMaxAbsDiff").getAsDouble() < 1e-3);
        JsonArray layers = report.getAsJsonArray("layers");
        assertEquals(4, layers.size());
        for (var l : layers) {
            assertTrue(l.getAsJsonObject().get("recomputeMaxAbsDiff").getAsDouble() < 1e-4, l.toString());
        }
        JsonArray figures = s.getAsJsonArray("figures");
        assertEquals(2, figures.size());
        for (var f : figures) {
            String file = f.getAsJsonObject().get("file").getAsString();
            assertTrue(Files.size(out.resolve(file)) > 5000, file);
            assertFalse(f.getAsJsonObject().get("caption").getAsString().isBlank());
        }
        List<String> cos = Files.readAllLines(out.resolve("cosine.csv"));
        assertEquals("variant,layer,domain,scope,tokens,mean_cosine", cos.get(0));
        // 6 variants x 4 layers x (4 domains + all) x (all tokens, last token)
        assertEquals(1 + 6 * 4 * 5 * 2, cos.size());
        // (3 corrected variants + the rank-2 expert) x 4 layers x (4 domains + all)
        assertEquals(1 + 4 * 4 * 5, Files.readAllLines(out.resolve("lens_agreement.csv")).size());
        assertEquals(1 + 4, Files.readAllLines(out.resolve("layers.csv")).size());
        // the edited model is opened from memory: the model's directory holds what the test put there, no more
        try (var files = Files.list(model.getParent())) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().contains(".moescope-")).toList());
        }
    }

    @Test
    void aMissingSidecarOrAnUnsupportedLayoutIsBadInputAndKeepsEarlierOutput() throws IOException {
        Path out = Files.createDirectories(dir.resolve("kept"));
        Files.writeString(out.resolve("summary.json"), "{\"earlier\":true}");
        CliRun r = run(args(out, "--sidecar", dir.resolve("nowhere.json").toString()).toArray(String[]::new));
        assertEquals(3, r.code());
        assertTrue(r.err().contains("nowhere.json") && r.err().contains("--sidecar"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        JsonObject sidecar = JsonParser.parseString(Files.readString(model.resolveSibling(Fixtures.SIDECAR_FILE)))
                .getAsJsonObject();
        sidecar.getAsJsonObject("model").getAsJsonObject("moe_weights").getAsJsonObject("2")
                .addProperty("layout", "experts as one packed int4 blob");
        Path bad = dir.resolve("bad-sidecar.json");
        Files.writeString(bad, sidecar.toString());
        r = run(args(out, "--sidecar", bad.toString()).toArray(String[]::new));
        assertEquals(3, r.code());
        assertTrue(r.err().contains("model.moe_weights.2") && r.err().contains("not supported"), r.err());
        assertEquals("{\"earlier\":true}", Files.readString(out.resolve("summary.json")));
    }
}
