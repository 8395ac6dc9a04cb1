package dev.moescope.probe.reproduce;

import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Target 1 on synthetic DeepSeek-shaped counts computed by hand, the numpy-reference comparison, bad counts files. */
class RoutingCountsReproductionTest {

    /**
     * E = 4, k = 2, layers 1 and 2. gsm8k: 10 tokens; layer 1 counts (8, 6, 4, 2): expert 0 takes 80 %;
     * layer 2 (5, 5, 5, 5): balanced. english: 4 tokens; layer 1 (2, 2, 2, 2), layer 2 (3, 1, 2, 2).
     */
    static String counts(String model) {
        return "{\"format\":\"moescope-expert-counts/1\",\"model\":\"" + model + "\",\"selection\":\"top-k\","
                + "\"numExperts\":4,\"topK\":2,\"modelTopK\":2,\"layers\":[1,2],\"domains\":{"
                + "\"gsm8k\":[[8,6,4,2],[5,5,5,5]],\"english\":[[2,2,2,2],[3,1,2,2]]},"
                + "\"source\":{\"repository\":\"test\"}}";
    }

    @Test
    void deepseekFiguresMatchHandComputation(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("ds.json"), counts("deepseek-base"));
        Files.writeString(dir.resolve("notes.json"), "{\"not\":\"counts\"}"); // ignored: no format tag
        Reproduction r = ReproductionTarget.DEEPSEEK_ROUTING.run(dir, null);
        Table domains = r.tables().get("domain_summary");
        // domains in file order: gsm8k, english
        assertEquals("english", domains.rows().get(1).get(2));
        var gsm = domains.rows().get(0);
        assertEquals("10", gsm.get(3));                      // tokens = 20 / 2
        assertEquals("0.8", gsm.get(4));                     // max share 8/10
        assertEquals("1", gsm.get(5));                       // at layer 1
        assertEquals("0", gsm.get(6));                       // expert 0
        assertEquals("1", gsm.get(8));                       // one layer with an expert > 50 %
        double p1 = 8 / 20.0, p2 = 6 / 20.0, p3 = 4 / 20.0, p4 = 2 / 20.0;
        double h1 = -(p1 * Math.log(p1) + p2 * Math.log(p2) + p3 * Math.log(p3) + p4 * Math.log(p4)) / Math.log(4);
        assertEquals((h1 + 1) / 2, Double.parseDouble(gsm.get(11)), 1e-15);
        double cv1 = Math.sqrt((3 * 3 + 1 + 1 + 3 * 3) / 4.0) / 5; // deviations ±3, ±1 from the mean 5
        assertEquals(cv1 / 2, Double.parseDouble(gsm.get(12)), 1e-15);
        // the claim rows: gsm8k has an expert over half its tokens, english (max 3/4 = 75 % at layer 2) too
        Check g = r.checks().stream().filter(c -> c.quantity().contains("gsm8k: an expert")).findFirst().orElseThrow();
        assertEquals(Check.Status.MET, g.status());
        assertTrue(g.ours().startsWith("1 of 2 layers; max 80.00 % (layer 1, expert 0)"), g.ours());
        Check e = r.checks().stream().filter(c -> c.quantity().contains("english: an expert")).findFirst().orElseThrow();
        assertEquals("1 of 2 layers; max 75.00 % (layer 2, expert 0)", e.ours());
        // the uniform-share row compares with DeepSeek's 6/64 = 9.375 %: these toy counts are 2 of 4 experts
        assertEquals("50.000", r.checks().get(0).ours());
        assertEquals(Check.Status.NOT_MET, r.checks().get(0).status());
        // spec §1.2's corpus sizes (97k GSM8K tokens, 197k English) are far from these toy counts: not met
        assertEquals(2, r.checks().stream().filter(c -> c.quantity().contains("tokens, thousands")
                && c.status() == Check.Status.NOT_MET).count());
        assertEquals(1, r.inputs().size());
    }

    @Test
    void referenceComparisonCatchesADifferentNumber(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("ds.json"), counts("deepseek-base"));
        String layer = "{\"layer\":%d,\"tokens\":%s,\"largestShare\":%s,\"largestExpert\":0,\"normalizedEntropy\":%s,"
                + "\"coefficientOfVariation\":%s,\"expertsAbove2xUniform\":%d}";
        double h1 = ExpertCounts.read(dir.resolve("ds.json")).analysis().load(1, "gsm8k").normalizedEntropy();
        double cv1 = ExpertCounts.read(dir.resolve("ds.json")).analysis().load(1, "gsm8k").coefficientOfVariation();
        double eh2 = ExpertCounts.read(dir.resolve("ds.json")).analysis().load(2, "english").normalizedEntropy();
        double ecv2 = ExpertCounts.read(dir.resolve("ds.json")).analysis().load(2, "english").coefficientOfVariation();
        String gsm = "{\"layers\":[" + String.format(java.util.Locale.ROOT, layer, 1, "10.0", "0.8", h1, cv1, 0) + ","
                + String.format(java.util.Locale.ROOT, layer, 2, "10.0", "0.5", "1.0", "0.0", 0) + "],"
                + "\"maxShare\":0.8,\"maxShareLayer\":1,\"layersWithExpertOverHalf\":1,\"meanNormalizedEntropy\":"
                + (h1 + 1) / 2 + ",\"meanCv\":" + cv1 / 2 + "}";
        String eng = "{\"layers\":[" + String.format(java.util.Locale.ROOT, layer, 1, "4.0", "0.5", "1.0", "0.0", 0) + ","
                + String.format(java.util.Locale.ROOT, layer, 2, "4.0", "0.75", eh2, ecv2, 0) + "],"
                + "\"maxShare\":0.75,\"maxShareLayer\":2,\"layersWithExpertOverHalf\":1,\"meanNormalizedEntropy\":"
                + (1 + eh2) / 2 + ",\"meanCv\":" + ecv2 / 2 + "}";
        Path ref = Files.createDirectory(dir.resolve("ref"));
        Files.writeString(ref.resolve("ds.metrics.json"), "{\"gsm8k\":" + gsm + ",\"english\":" + eng + "}");
        Reproduction ok = ReproductionTarget.DEEPSEEK_ROUTING.run(dir.resolve("ds.json"), ref);
        Check c = ok.checks().get(0);
        assertTrue(c.quantity().contains("independent numpy"), c.quantity());
        assertEquals(Check.Status.MET, c.status(), c.ours());

        Files.writeString(ref.resolve("ds.metrics.json"), "{\"gsm8k\":" + gsm.replace("\"maxShare\":0.8", "\"maxShare\":0.81")
                + ",\"english\":" + eng.replace("\"maxShareLayer\":2", "\"maxShareLayer\":1") + "}");
        Check bad = ReproductionTarget.DEEPSEEK_ROUTING.run(dir.resolve("ds.json"), ref).checks().get(0);
        assertEquals(Check.Status.NOT_MET, bad.status());
        assertTrue(bad.ours().contains("max |Δ| 1.0e-02") && bad.ours().contains("english layer figures"), bad.ours());
    }

    @Test
    void badCountsFilesAreOneLineBadInput(@TempDir Path dir) throws Exception {
        String[][] cases = {
            {counts("x").replace("moescope-expert-counts/1", "other/1"), "format is other/1"},
            {counts("x").replace("[8,6,4,2]", "[8,6,4,3]"), "not a multiple of topK 2"},
            {counts("x").replace("[8,6,4,2]", "[8,6,4]"), "has 3 counts, expected 4"},
            {counts("x").replace("[8,6,4,2]", "[10,6,4,2]"), "layer 2 counts 10 tokens, earlier layers 11"},
            {counts("x").replace("[2,2,2,2],[3,1,2,2]", "[6,2,0,0],[3,1,2,2]"), "counted 6 times over 4 tokens"},
            {counts("x").replace("\"layers\":[1,2]", "\"layers\":[1]"), "has 2 layers of counts, the file lists 1"},
            {counts("x").replace("\"topK\":2", "\"topK\":5"), "need 1 <= topK"},
            {"[1,2]", "not a JSON object"},
        };
        for (String[] c : cases) {
            Path f = dir.resolve("bad.json");
            Files.writeString(f, c[0]);
            MoescopeException e = assertThrows(MoescopeException.class, () -> ExpertCounts.read(f), c[1]);
            assertEquals(ExitCode.BAD_INPUT, e.exitCode());
            assertTrue(e.getMessage().startsWith(f + ": ") && e.getMessage().contains(c[1]), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"));
        }
        Files.writeString(dir.resolve("bad.json"), counts("qwen"));
        MoescopeException none = assertThrows(MoescopeException.class,
                () -> ReproductionTarget.DEEPSEEK_ROUTING.run(dir.resolve("bad.json"), null));
        assertTrue(none.getMessage().contains("no counts file of a deepseek model"), none.getMessage());
        MoescopeException olmoe = assertThrows(MoescopeException.class,
                () -> ReproductionTarget.OLMOE_ROUTING.run(dir.resolve("bad.json"), null));
        assertTrue(olmoe.getMessage().contains("model olmoe with layers 0, 7, 15"), olmoe.getMessage());
    }
}
