package dev.moescope.crosscoder.diff;

import ai.djl.engine.Engine;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.crosscoder.data.PairStores;
import dev.moescope.crosscoder.data.PairedStoreSource;
import dev.moescope.crosscoder.data.SyntheticPairSource;
import dev.moescope.crosscoder.train.CrosscoderConfig;
import dev.moescope.crosscoder.train.CrosscoderTraining;
import dev.moescope.sae.dictionary.Parallel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The diff code path end to end on data with known truth: two synthetic sources with known shared, A-only and
 * B-only dictionaries are written into two real paired stores; a crosscoder is trained on the stores' training
 * documents and saved as {@code crosscoder train} saves it; {@link ModelDiff} then reads the run back, streams the
 * held-out documents and classifies every latent. The latent that best matches each true feature must carry the
 * feature's class (≥ 90% of features), fire on about the feature's rate of tokens, designated shared latents must
 * come out at r = 0.5 and cosine 1 exactly, and the report files must be written with the shared claims convention.
 */
class SyntheticDiffTest {

    private static final int D = 24;
    private static final int DESIGNATED = 2;
    private static final double P = 0.08;

    @TempDir
    static Path tmp;
    static SyntheticPairSource truth;
    static ModelDiff.Result result;

    @BeforeAll
    static void trainAndDiff() {
        Engine engine = DjlRuntime.pytorch(2);
        truth = new SyntheticPairSource(D, 10, 10, 10, P, 7);
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        PairStores.write(a, b, truth, 400, 64, -1);
        Path run = tmp.resolve("run");
        CrosscoderConfig config = CrosscoderConfig.defaults(40, 3, DESIGNATED, 256, 4000, 11)
                .withLr(3e-3).withDeadTokens(256L * 50);
        try (PairedStoreSource src = new PairedStoreSource(List.of(a, b), List.of(PairStores.HOOK, PairStores.HOOK), 11);
             Parallel par = new Parallel(2)) {
            CrosscoderTraining.Result r = CrosscoderTraining.train(engine, src, config, par);
            try (var cc = r.model()) {
                // saved as `crosscoder train` saves a run: weights with provenance metadata, cfg.json with the config
                Provenance p = Provenance.start("crosscoder train").parameters(src.describe()).build();
                Files.createDirectories(run);
                Map<String, String> meta = new LinkedHashMap<>();
                meta.put("format", "moescope-crosscoder");
                meta.put("provenance", Json.gson().toJson(p));
                CrosscoderTraining.save(run.resolve(CrosscoderRun.WEIGHTS), r, meta);
                Map<String, Object> cfg = new LinkedHashMap<>();
                cfg.put("config", config);
                Json.write(run.resolve(CrosscoderRun.CONFIG), cfg);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        CrosscoderRun cc = CrosscoderRun.open(run);
        assertEquals(List.of(a, b), cc.stores());
        assertTrue(cc.heldOutDocuments());
        ModelDiff.Options o = new ModelDiff.Options(ModelDiff.storesOf(cc, List.of()),
                ModelDiff.hooksOf(cc, List.of(), 2), null, 0, 512, 3, RelativeNorms.defaults(), -1, 0.1);
        result = ModelDiff.run(engine, cc, o, 2);
    }

    @Test
    void classifiesTheTrueFeaturesAndMeasuresTheirDensity() {
        CrosscoderWeights w = result.run().weights();
        int correct = 0;
        int recovered = 0;
        double[] densities = new double[truth.features()];
        StringBuilder log = new StringBuilder();
        for (int t = 0; t < truth.features(); t++) {
            float[] ta = truth.direction(0, t);
            float[] tb = truth.direction(1, t);
            int best = -1;
            double bestCos = -2;
            for (int i = 0; i < w.latents(); i++) {
                double c = concatCosine(ta, tb, w.decoder(0), w.decoder(1), i);
                if (c > bestCos) {
                    bestCos = c;
                    best = i;
                }
            }
            LatentClass cls = result.decoders().classes()[best];
            boolean ok = switch (truth.truth(t)) {
                case SHARED -> cls == LatentClass.SHARED || cls == LatentClass.SHARED_DESIGNATED;
                case ONLY_A -> cls == LatentClass.A_SPECIFIC;
                case ONLY_B -> cls == LatentClass.B_SPECIFIC;
            };
            log.append(String.format("feature %d %s -> latent %d cos %.3f %s r %.3f density %.4f%n", t, truth.truth(t),
                    best, bestCos, cls, result.decoders().r()[best], result.activity().density(best)));
            if (bestCos >= 0.9) {
                recovered++;
                densities[recovered - 1] = result.activity().density(best);
                if (ok) {
                    correct++;
                }
            }
        }
        System.out.print(log);
        double accuracy = (double) correct / truth.features();
        assertTrue(accuracy >= 0.9, "classification accuracy " + accuracy + " (recovered " + recovered + ")\n" + log);
        // a recovered latent fires where its feature is present, on ~P of the held-out tokens (sampling noise on
        // ~2,500 tokens is ~0.005); a few also absorb part of a feature that no latent recovered alone and fire
        // more often, so the median is checked tightly and every one only from below
        double[] d = java.util.Arrays.copyOf(densities, recovered);
        java.util.Arrays.sort(d);
        double median = ClassStats.quantile(d, 0.5);
        assertEquals(P, median, 0.01, "median density of the recovered latents\n" + log);
        assertTrue(d[0] > P / 2, "a recovered latent fires on " + d[0] + " of tokens, feature rate " + P + "\n" + log);
        assertTrue(result.activity().tokens() > 1000 && result.activity().tokens() < 25600 / 4,
                "held-out tokens only: " + result.activity().tokens());
        assertTrue(result.reconstruction().fvePooledThreshold() > 0.8, "FVE " + result.reconstruction());
    }

    @Test
    void designatedSharedLatentsHaveRelativeNormHalfAndCosineOneExactly() {
        for (int i = 0; i < DESIGNATED; i++) {
            assertEquals(LatentClass.SHARED_DESIGNATED, result.decoders().classes()[i]);
            assertEquals(0.5, result.decoders().r()[i], 0.0);
            assertEquals(1.0, result.decoders().cosine()[i], 0.0);
            assertEquals(0.5, result.decoders().deltaNorm()[i], 0.0);
        }
        for (int i = DESIGNATED; i < result.decoders().classes().length; i++) {
            assertTrue(result.decoders().classes()[i] != LatentClass.SHARED_DESIGNATED);
        }
    }

    @Test
    void writesTheReportWithClaimsAndFigures() throws Exception {
        Path out = tmp.resolve("diff");
        Files.createDirectories(out);
        DiffReport.write(out, result, Provenance.start("crosscoder diff").build());
        JsonObject s = Json.read(out.resolve(DiffReport.SUMMARY), JsonObject.class);
        JsonArray claims = s.getAsJsonArray("claims");
        assertEquals(4, claims.size());
        for (var c : claims) {
            JsonObject o = c.getAsJsonObject();
            for (String key : List.of("claim", "expected", "measured", "supported")) {
                assertTrue(o.has(key), key + " in " + o);
            }
        }
        JsonObject counts = s.getAsJsonObject("counts");
        int total = 0;
        for (LatentClass c : LatentClass.values()) {
            total += counts.get(c.name()).getAsInt();
        }
        assertEquals(40, total);
        assertTrue(claims.get(3).getAsJsonObject().get("supported").getAsBoolean(), "designated claim");
        for (var f : s.getAsJsonArray("figures")) {
            Path png = out.resolve(f.getAsJsonObject().get("file").getAsString());
            byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 4);
            assertEquals("\u0089PNG", new String(head, java.nio.charset.StandardCharsets.ISO_8859_1), png.toString());
        }
        assertEquals(41, Files.readAllLines(out.resolve(DiffReport.LATENTS)).size());
        assertEquals(LatentClass.values().length + 1, Files.readAllLines(out.resolve(DiffReport.CLASSES)).size());
        assertTrue(Files.readString(out.resolve(DiffReport.REPORT)).contains("## The paper's claims"));
        assertTrue(!s.has("routing"), "synthetic stores recorded no routing");
    }

    private static double concatCosine(float[] ta, float[] tb, float[] decA, float[] decB, int i) {
        double dot = 0;
        double nt = 0;
        double nl = 0;
        for (int j = 0; j < D; j++) {
            dot += (double) ta[j] * decA[i * D + j] + (double) tb[j] * decB[i * D + j];
            nt += (double) ta[j] * ta[j] + (double) tb[j] * tb[j];
            nl += (double) decA[i * D + j] * decA[i * D + j] + (double) decB[i * D + j] * decB[i * D + j];
        }
        return nt == 0 || nl == 0 ? 0 : dot / Math.sqrt(nt * nl);
    }
}
