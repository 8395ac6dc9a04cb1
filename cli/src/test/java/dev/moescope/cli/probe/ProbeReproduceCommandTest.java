package dev.moescope.cli.probe;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.cli.CliRun;
import dev.moescope.fixtures.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code moescope probe reproduce} end to end on the committed OLMoE counts, and its usage and bad-input errors. */
class ProbeReproduceCommandTest {

    @Test
    void olmoeRoutingOnTheCommittedReleasedCounts(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("olmoe");
        CliRun r = CliRun.of("probe", "reproduce", "olmoe-routing", "--data",
                Fixtures.path("released/olmoe").toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("22 met, 0 not met, 0 reported"), r.out());
        assertTrue(r.out().contains("[met] OLMoE arxiv layer 0: largest expert share (%), ours expert 0: paper 97.8, ours 97.7"),
                r.out());
        for (String f : new String[]{"summary.json", "checks.csv", "reproduction.md", "expert_share.csv",
                "layer_load.csv", "domain_summary.csv", "domain_layer_max.csv"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        JsonObject s = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject();
        assertEquals("probe reproduce olmoe-routing", s.getAsJsonObject("provenance").get("operation").getAsString());
        assertEquals(0, s.get("unmet").getAsInt());
    }

    @Test
    void baselinesNeedNoData(@TempDir Path dir) {
        CliRun r = CliRun.of("probe", "reproduce", "5", "--out", dir.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("target 5 (baselines)"), r.out());
    }

    @Test
    void usageAndBadInputErrors(@TempDir Path dir) {
        CliRun unknown = CliRun.of("probe", "reproduce", "fig9", "--out", dir.toString());
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("unknown reproduction target 'fig9'"), unknown.err());
        CliRun noData = CliRun.of("probe", "reproduce", "lens-cosine", "--out", dir.toString());
        assertEquals(2, noData.code());
        assertTrue(noData.err().contains("needs --data"), noData.err());
        Path missing = dir.resolve("nowhere");
        CliRun bad = CliRun.of("probe", "reproduce", "lens-perplexity", "--data", missing.toString(), "--out",
                dir.resolve("o").toString());
        assertEquals(3, bad.code());
        assertEquals("moescope: " + missing + ": not found (--data: MoE Lens's data/ folder (pplx/ and pplx-data/))",
                bad.err().strip());
        assertFalse(Files.exists(dir.resolve("o")));
    }
}
