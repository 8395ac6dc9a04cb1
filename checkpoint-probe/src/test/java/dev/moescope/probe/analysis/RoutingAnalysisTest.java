package dev.moescope.probe.analysis;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.provenance.Provenance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Routing analyses on synthetic routing, against values computed by hand (spec §7 target 6 and neighbours). */
class RoutingAnalysisTest {

    static final double EPS = 1e-12;

    /**
     * E = 4, k = 3, one layer. Doc 0: t1 [0,1,2] (id 7, code), t2 [0,2,3] (id 7, code), t3 [1,0,3] (id 9, prose);
     * doc 1: t4 [3,2,1] (id 9, prose) at position 3, which pairs with nothing.
     */
    static RoutingAnalysis synthetic() {
        RoutingAnalysis a = new RoutingAnalysis(4, 3, 1);
        a.accept(new TokenRouting(0, new int[]{0, 1, 2}, null, null, "code", 7, 7, 5, 0, 0));
        a.accept(new TokenRouting(0, new int[]{0, 2, 3}, null, null, "code", 7, 9, 5, 0, 1));
        a.accept(new TokenRouting(0, new int[]{1, 0, 3}, null, null, "prose", 9, -1, 5, 0, 2));
        a.accept(new TokenRouting(0, new int[]{3, 2, 1}, null, null, "prose", 9, -1, 6, 1, 3));
        return a;
    }

    @Test
    void coactivationAllPairsAndAdjacentRankMatchHandCounts() {
        RoutingAnalysis a = synthetic();
        CoActivation c = a.coactivation(0);
        // N_i: e0 3, e1 3, e2 3, e3 3. All pairs: t1 01 02 12, t2 02 03 23, t3 01 03 13, t4 23 13 12
        // -> N01 2, N02 2, N03 2, N12 2, N13 2, N23 2
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                if (i != j) {
                    assertEquals(2.0 / 3, c.allPairs(i, j), EPS, "all-pairs " + i + "," + j);
                }
            }
        }
        // adjacent rank: t1 (0,1)(1,2); t2 (0,2)(2,3); t3 (1,0)(0,3); t4 (3,2)(2,1)
        // -> N01 2, N12 2, N02 1, N23 2, N03 1, N13 0
        assertEquals(2.0 / 3, c.adjacentRank(0, 1), EPS);
        assertEquals(2.0 / 3, c.adjacentRank(1, 2), EPS);
        assertEquals(1.0 / 3, c.adjacentRank(0, 2), EPS);
        assertEquals(2.0 / 3, c.adjacentRank(3, 2), EPS);
        assertEquals(1.0 / 3, c.adjacentRank(3, 0), EPS);
        assertEquals(0.0, c.adjacentRank(1, 3), EPS);
        assertEquals(0.0, c.adjacentRank(3, 1), EPS);
    }

    @Test
    void coactivationDenominatorsDifferPerExpert() {
        CoActivation c = new CoActivation(4);
        c.add(new int[]{0, 1});
        c.add(new int[]{0, 2});
        c.add(new int[]{1, 0});
        // N0 = 3, N1 = 2, N01 = 2
        assertEquals(2.0 / 3, c.allPairs(0, 1), EPS);
        assertEquals(1.0, c.allPairs(1, 0), EPS);
        assertEquals(1.0 / 3, c.allPairs(0, 2), EPS);
        assertEquals(0.0, c.allPairs(2, 1), EPS);
    }

    @Test
    void loadMetricsMatchHandComputation() {
        // counts [3, 2, 2, 2] over 3 tokens with k = 3: e0 in every token
        ExpertLoad l = new ExpertLoad(4);
        l.add(new int[]{0, 1, 2});
        l.add(new int[]{0, 2, 3});
        l.add(new int[]{1, 0, 3});
        assertEquals(1.0, l.largestShare(), EPS);
        assertEquals(0, l.largestExpert());
        assertEquals(2.0 / 3, l.share(1), EPS);
        double h = -(3.0 / 9 * Math.log(3.0 / 9) + 3 * (2.0 / 9) * Math.log(2.0 / 9));
        assertEquals(h / Math.log(4), l.normalizedEntropy(), EPS);
        assertEquals(Math.sqrt(0.1875) / 2.25, l.coefficientOfVariation(), EPS);
        assertEquals(3 / 2.25, l.maxOverMean(), EPS);
        assertEquals(3 / 2.25 - 1, l.maxVio(), EPS);
        assertEquals(2, l.expertsCovering(0.5)); // 3/9 < 0.5 <= 5/9
        assertEquals(0, l.deadExperts());
        assertEquals(1, l.expertsAbove(1.3, 3)); // threshold 1.3 * 3/4 = 0.975: only e0 (share 1.0)

        ExpertLoad balanced = ExpertLoad.fromCounts(new long[]{5, 5, 5, 5}, 10);
        assertEquals(1.0, balanced.normalizedEntropy(), EPS);
        assertEquals(0.0, balanced.coefficientOfVariation(), EPS);
        assertEquals(2, balanced.expertsCovering(0.5));
        ExpertLoad collapsed = ExpertLoad.fromCounts(new long[]{0, 10, 0, 0}, 10);
        assertEquals(0.0, collapsed.normalizedEntropy(), EPS);
        assertEquals(3, collapsed.deadExperts());
        assertEquals(1, collapsed.expertsCovering(0.5));
        assertEquals(3.0, collapsed.maxVio(), EPS);
    }

    @Test
    void domainSpecialisationSplitsByDomain() {
        RoutingAnalysis a = synthetic();
        assertEquals(List.of("code", "prose"), a.domains());
        assertEquals(1.0, a.load(0, "code").share(0), EPS);   // e0 in both code tokens
        assertEquals(0.5, a.load(0, "code").share(1), EPS);
        assertEquals(1.0, a.load(0, "prose").share(1), EPS);  // e1 in both prose tokens
        assertEquals(0.5, a.load(0, "prose").share(0), EPS);
        RoutingAnalysis.Summary s = a.summary();
        assertEquals(0.75, s.uniformShare(), EPS);
        RoutingAnalysis.DomainSummary code = s.domains().stream().filter(d -> d.domain().equals("code")).findFirst().orElseThrow();
        assertEquals(1.0, code.maxShare(), EPS);
        assertEquals(0, code.maxShareExpert());
        assertEquals(1, code.layersWithExpertOverHalf());
    }

    @Test
    void consecutiveRoutingAgainstMixtralDefinitions() {
        RoutingAnalysis a = synthetic();
        ConsecutiveRouting c = a.consecutive(0);
        // pairs inside doc 0: (t1,t2), (t2,t3); t4 is another doc
        assertEquals(2, c.pairs());
        assertEquals(0.5, c.firstChoiceRate(), EPS);          // 0=0 yes, 0 vs 1 no
        assertEquals(1.0, c.firstOrSecondRate(), EPS);        // {0,1}∩{0,2}, {0,2}∩{1,0}
        assertEquals(0.5, c.meanJaccard(), EPS);              // 2/4 and 2/4
        assertEquals(0.25, c.firstChoiceBaseline(), EPS);
        assertEquals(1 - 1.0 / 6, c.firstOrSecondBaseline(), EPS);
        // Mixtral's E = 8: the paper's random lines 12.5 % and 46 %
        assertEquals(0.125, new ConsecutiveRouting(8).firstChoiceBaseline(), EPS);
        assertEquals(1 - 15.0 / 28, new ConsecutiveRouting(8).firstOrSecondBaseline(), EPS);
        // a gap in positions breaks the chain
        RoutingAnalysis gap = new RoutingAnalysis(4, 2, 1);
        gap.accept(TokenRouting.of(0, new int[]{0, 1}, "", 1, 0, 0));
        gap.accept(TokenRouting.of(0, new int[]{0, 1}, "", 1, 0, 2));
        assertEquals(0, gap.consecutive(0).pairs());
    }

    @Test
    void vocabularySpecialisationPerTokenKind() {
        RoutingAnalysis a = synthetic();
        // input id 7 (t1, t2): counts e0 2, e1 1, e2 2, e3 1 over 2 occurrences -> 2/2 = 1
        // input id 9 (t3, t4): e0 1, e1 2, e2 1, e3 2 -> 1
        assertEquals(1.0, a.vocabulary(0, "input").mean(1), EPS);
        // k = 2 gives a non-trivial case
        VocabularySpecialisation v = new VocabularySpecialisation(4);
        v.add(5, new int[]{0, 1});
        v.add(5, new int[]{0, 2});
        v.add(5, new int[]{3, 2});
        v.add(5, new int[]{3, 1});
        v.add(6, new int[]{1, 2});
        assertEquals(0.5, v.specialisation(5), EPS); // every expert twice in 4 occurrences
        assertEquals(1.0, v.specialisation(6), EPS);
        assertEquals(0.75, v.mean(1), EPS);
        assertEquals(0.5, v.mean(2), EPS);            // id 6 seen once: left out
        assertEquals(1, v.ids(2));
        // next ids: 7 -> t1, 9 -> t2; predicted: 5 -> t1,t2,t3; 6 -> t4
        assertEquals(1.0, a.vocabulary(0, "next").mean(1), EPS);
        assertEquals(2, a.vocabulary(0, "next").ids(1));
        // predicted id 5 over t1,t2,t3: e0 3 of 3
        assertEquals(1.0, a.vocabulary(0, "predicted").specialisation(5), EPS);
    }

    @Test
    void agreementBetweenTwoRuns() {
        RoutingAgreement g = new RoutingAgreement();
        g.add(2, new int[]{0, 1, 2}, new int[]{0, 2, 3}); // top-1 equal, J = 2/4, overlap 2/3
        g.add(2, new int[]{1, 2, 3}, new int[]{3, 2, 1}); // top-1 differs, J = 1, overlap 1
        assertEquals(0.5, g.top1Agreement(2), EPS);
        assertEquals(0.75, g.meanJaccard(2), EPS);
        assertEquals((2.0 / 3 + 1) / 2, g.saturation(2), EPS);
        assertEquals(2, g.tokens(2));
    }

    @Test
    void confidenceFromLogitsAndBadExpertIds() {
        RoutingAnalysis a = new RoutingAnalysis(4, 2, 1);
        float[] uniform = {0, 0, 0, 0};
        a.accept(new TokenRouting(0, new int[]{0, 1}, new float[]{0.5f, 0.5f}, uniform, "", 1, -1, -1, 0, 0));
        RoutingAnalysis.Confidence c = a.summary().layers().get(0).confidence();
        assertEquals(1.0, c.meanNormalizedEntropy(), 1e-9);
        assertEquals(0.0, c.meanTop1Margin(), 1e-9);
        assertEquals(0.5, c.meanTopKMass(), 1e-9);
        assertNull(synthetic().summary().layers().get(0).confidence());
        MoescopeException e = assertThrows(MoescopeException.class,
                () -> a.accept(TokenRouting.of(3, new int[]{4, 0}, "", 1, 0, 1)));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("expert 4"), e.getMessage());
    }

    @Test
    void writesSummaryCsvsAndCharts(@TempDir Path dir) throws Exception {
        RoutingAnalysis a = synthetic();
        a.accept(TokenRouting.of(1, new int[]{2, 3, 0}, "code", 7, 0, 0));
        List<Path> files = ReportWriter.write(dir, a, Provenance.start("probe analyze").parameter("seed", 1).build(),
                ReportWriter.firstMiddleLast(a.layers()));
        assertTrue(files.contains(dir.resolve("summary.json")));
        JsonObject root = JsonParser.parseString(Files.readString(dir.resolve("summary.json"))).getAsJsonObject();
        assertEquals("probe analyze", root.getAsJsonObject("provenance").get("operation").getAsString());
        JsonObject layer0 = root.getAsJsonObject("summary").getAsJsonArray("layers").get(0).getAsJsonObject();
        assertEquals(0.75, layer0.getAsJsonObject("load").get("largestShare").getAsDouble(), EPS); // each expert in 3 of 4 tokens
        assertTrue(layer0.getAsJsonObject("coactivation").get("figuresUse").getAsString().startsWith("adjacent-rank"));
        List<String> load = Files.readAllLines(dir.resolve("expert_load.csv"));
        assertEquals("layer,domain,expert,count,top1_count,share", load.get(0));
        assertTrue(load.contains("0,all,0,3,2,0.750000"), load.toString());
        List<String> co = Files.readAllLines(dir.resolve("coactivation.csv"));
        assertTrue(co.contains("0,adjacent-rank,1,3,0.00000"), co.toString());
        assertTrue(co.contains("0,all-pairs,1,3,0.666667"), co.toString());
        for (String png : new String[]{"largest_share_by_layer.png", "domain_specialisation_layer0.png",
                "coactivation_adjacent_layer1.png"}) {
            assertNotNull(ImageIO.read(dir.resolve(png).toFile()), png + " is a readable image");
        }
        assertTrue(Files.readString(dir.resolve("consecutive.csv")).contains("0,2,0.500000,0.250000,1.00000,0.833333,0.500000"));
    }
}
