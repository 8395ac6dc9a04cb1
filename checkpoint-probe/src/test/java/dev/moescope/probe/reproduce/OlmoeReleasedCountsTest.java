package dev.moescope.probe.reproduce;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.fixtures.Fixtures;
import dev.moescope.probe.analysis.RoutingAnalysis;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Target 2 on the real released counts (OLMoE's pickles, converted and committed under
 * {@code fixtures/data/released/olmoe}): our metric code gives the figure values and the independent numpy
 * recomputation's numbers ({@code released_counts.py metrics}, pinned below).
 */
class OlmoeReleasedCountsTest {

    static final Path DATA = Fixtures.path("released/olmoe");

    @Test
    void everyTarget2CheckIsMetOnTheReleasedCounts(@TempDir Path out) throws Exception {
        Reproduction r = ReproductionTarget.OLMOE_ROUTING.run(DATA, null);
        assertEquals(0, r.unmet(), r.markdown());
        // 10 figure readings, uniform shares, token counts, the C4 / arXiv / GitHub / Mixtral claims
        assertEquals(22, r.checks().size(), r.markdown());
        assertTrue(r.checks().stream().anyMatch(c -> c.quantity().startsWith("OLMoE arxiv layer 0")
                && c.ours().equals("97.7")), r.markdown());

        List<Path> files = r.write(out, Provenance.start("probe reproduce olmoe-routing"));
        assertTrue(files.contains(out.resolve("summary.json")));
        JsonObject summary = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject();
        assertEquals(2, summary.getAsJsonObject("provenance").getAsJsonArray("inputs").size());
        assertEquals(64, summary.getAsJsonObject("provenance").getAsJsonArray("inputs").get(0).getAsJsonObject()
                .get("sha256").getAsString().length());
        assertEquals("allenai/OLMoE", summary.getAsJsonObject("figures").getAsJsonObject("olmoe")
                .getAsJsonObject("source").get("repository").getAsString());
        String md = Files.readString(out.resolve("reproduction.md"));
        assertTrue(md.startsWith("## Target 2: "), md);
        assertTrue(md.contains("| olmoe | arxiv | 0 | 0.9766 | 0 |"), md);
        List<String> shares = Files.readAllLines(out.resolve("expert_share.csv"));
        assertEquals(1 + 5 * 3 * 64 + 5 * 3 * 8, shares.size());
        assertTrue(shares.contains("olmoe,top-k,arxiv,0,0,204013," + 204013.0 / 208896), shares.get(1));
    }

    @Test
    void figuresEqualTheCountsAndTheNumpyRecomputation() {
        ExpertCounts olmoe = ExpertCounts.read(DATA.resolve("olmoe-expert-counts.json"));
        assertEquals(208_896, olmoe.tokens("arxiv"));
        assertEquals(0.125, olmoe.uniformShare());
        RoutingAnalysis.Summary s = olmoe.analysis().summary();
        RoutingAnalysis.LoadMetrics arxiv0 = RoutingCountsReproduction.layerMetrics(s, 0, "arxiv");
        // counts straight from the pickle: expert 0 of layer 0 chosen for 204013 of 208896 arXiv tokens
        assertEquals(204013.0 / 208896, arxiv0.largestShare(), 0);
        assertEquals(0, arxiv0.largestExpert());
        // numpy (released_counts.py metrics) on the same JSON
        assertEquals(0.9427521007939537, arxiv0.normalizedEntropy(), 1e-12);
        assertEquals(0.9505828545710445, arxiv0.coefficientOfVariation(), 1e-12);
        assertEquals(2, arxiv0.expertsAbove2xUniform());
        RoutingAnalysis.DomainSummary arxiv = RoutingCountsReproduction.domain(s, "arxiv");
        assertEquals(0.8908727194988401, arxiv.meanNormalizedEntropy(), 1e-12);
        assertEquals(1.1590956737529938, arxiv.meanCv(), 1e-12);
        RoutingAnalysis.DomainSummary c4 = RoutingCountsReproduction.domain(s, "c4");
        assertEquals(0.9799406491178265, c4.meanNormalizedEntropy(), 1e-12);
        assertEquals(0.4129588401899284, c4.meanCv(), 1e-12);

        ExpertCounts mixtral = ExpertCounts.read(DATA.resolve("mixtral-expert-counts.json"));
        RoutingAnalysis.Summary m = mixtral.analysis().summary();
        RoutingAnalysis.LoadMetrics gh15 = RoutingCountsReproduction.layerMetrics(m, 15, "github");
        assertEquals(69374.0 / 208896, gh15.largestShare(), 0);
        assertEquals(5, gh15.largestExpert());
        assertEquals(0.9919366503124076, gh15.normalizedEntropy(), 1e-12);
        assertEquals(0.18361647020635072, gh15.coefficientOfVariation(), 1e-12);
        assertEquals(0.9950480007791388, RoutingCountsReproduction.domain(m, "github").meanNormalizedEntropy(), 1e-12);
    }
}
