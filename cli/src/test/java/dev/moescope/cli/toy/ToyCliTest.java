package dev.moescope.cli.toy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import dev.moescope.cli.CliRun;
import dev.moescope.toy.experiments.ConsoleSummary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code moescope toy ...} end to end: outputs with provenance, and one-line errors with the right exit codes. */
class ToyCliTest {

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void reproduceWritesSummaryWeightsAndPlots(@TempDir Path dir) throws Exception {
        CliRun r = run("toy", "reproduce", "fig5", "--out", dir.toString(), "--quick", "--seed", "3", "--no-progress");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("wrote"), r.out());
        JsonObject s = JsonParser.parseString(Files.readString(dir.resolve("summary.json"))).getAsJsonObject();
        assertEquals("toy reproduce fig5", s.getAsJsonObject("provenance").get("operation").getAsString());
        assertEquals("3", s.getAsJsonObject("provenance").getAsJsonObject("parameters").get("seed").getAsString());
        assertEquals(1.0, s.getAsJsonObject("results").getAsJsonObject("diagonal")
                .get("agreement_with_x1_gt_x2_split").getAsDouble(), 1e-12);
        assertTrue(Files.size(dir.resolve("fig5.safetensors")) > 0);
        assertTrue(Files.size(dir.resolve("fig5-regions.png")) > 0);
        assertTrue(Files.size(dir.resolve("fig5-regions-all-seeds.png")) > 0);

        // a second run into the same --out is refused (exit 2, one line naming it) and leaves the first run as it was
        byte[] first = Files.readAllBytes(dir.resolve("summary.json"));
        CliRun again = run("toy", "reproduce", "fig5", "--out", dir.toString(), "--quick", "--seed", "4",
                "--no-progress");
        assertPreviousRunRefused(again, dir);
        assertArrayEquals(first, Files.readAllBytes(dir.resolve("summary.json")));
        // 'all' checks every experiment's directory before running any
        Path all = dir.resolve("all");
        Files.createDirectories(all.resolve("fig5"));
        Files.write(all.resolve("fig5/summary.json"), first);
        assertPreviousRunRefused(run("toy", "reproduce", "all", "--out", all.toString(), "--quick", "--no-progress"),
                all.resolve("fig5"));
        try (var entries = Files.list(all)) {
            assertEquals(1, entries.count(), "'all' ran an experiment before refusing");
        }
    }

    /** The one refusal of an --out that holds a previous run: exit 2, one line naming the directory. */
    static void assertPreviousRunRefused(CliRun r, Path dir) {
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals("moescope: " + dir + ": already holds a", r.err().strip().substring(0,
                ("moescope: " + dir + ": already holds a").length()), r.err());
        assertTrue(r.err().contains("choose another --out"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    /**
     * The console says what actually ran (the --quick families and densities, the --steps given) and the
     * figure's headline numbers, not the paper's settings or the raw override fields.
     */
    @Test
    void reproducePrintsTheSettingsItRanWithAndHeadlineNumbers(@TempDir Path dir) throws Exception {
        CliRun r = run("toy", "reproduce", "fig3", "--out", dir.toString(), "--quick", "--steps", "50",
                "--no-progress");
        assertEquals(0, r.code(), r.err());
        String out = r.out();
        assertTrue(out.contains("families: dense m=8 (n=40), E4 k1 m=2 (n=40), E8 k2 m=1 (n=40)"), out);
        assertTrue(out.contains("steps: 50\n") || out.contains("steps: 50\r\n"), out);
        assertTrue(out.contains("densities: 8 values, 1 to 0.1"), out);
        for (String family : List.of("dense m=8", "E4 k1 m=2", "E8 k2 m=1")) {
            assertTrue(Pattern.compile("features per dimension, " + Pattern.quote(family)
                    + ": [0-9.]+ at density 1, [0-9.]+ at density 0\\.1").matcher(out).find(), out);
        }
        assertFalse(out.contains("override"), out);
        assertFalse(out.contains("n=100") || out.contains("m=20"), "the paper's settings did not run:\n" + out);
        // the printed numbers are the summary's
        JsonObject res = JsonParser.parseString(Files.readString(dir.resolve("summary.json"))).getAsJsonObject()
                .getAsJsonObject("results");
        double sparsest = res.getAsJsonArray("families").get(0).getAsJsonObject()
                .getAsJsonArray("features_per_dimension").get(7).getAsDouble();
        assertTrue(out.contains("features per dimension, dense m=8: "), out);
        assertTrue(out.contains(ConsoleSummary.format(sparsest) + " at density 0.1"), out);
        assertEquals(50, res.getAsJsonObject("settings").get("steps").getAsInt());
    }

    @Test
    void reproduceOverridesBiasInitAndRouterGradientAndRecordsThem(@TempDir Path dir) throws Exception {
        CliRun r = run("toy", "reproduce", "fig5", "--out", dir.toString(), "--quick", "--bias-init", "zero",
                "--router-gradient", "pytorch-float32", "--no-progress");
        assertEquals(0, r.code(), r.err());
        JsonObject s = JsonParser.parseString(Files.readString(dir.resolve("summary.json"))).getAsJsonObject();
        JsonObject res = s.getAsJsonObject("results");
        assertEquals("zero", res.get("bias_init_override").getAsString());
        assertEquals("pytorch-float32", res.get("router_gradient_override").getAsString());
        assertEquals("pytorch-float32", s.getAsJsonObject("provenance").getAsJsonObject("parameters")
                .get("router_gradient_override").getAsString());
        // PyTorch's residue moves the zero E=3 router off its tie
        assertTrue(res.getAsJsonObject("zero").getAsJsonArray("router").get(0).getAsJsonArray().get(0)
                .getAsDouble() != 0.0);
        Path bad = dir.resolve("bad");
        CliRun b = run("toy", "reproduce", "fig5", "--out", bad.toString(), "--bias-init", "uniform");
        assertEquals(2, b.code());
        assertEquals("moescope: unknown bias init 'uniform' (expected xavier or zero)", b.err().strip());
        CliRun g = run("toy", "reproduce", "fig5", "--out", bad.toString(), "--router-gradient", "fast");
        assertEquals(2, g.code());
        assertTrue(g.err().contains("unknown router gradient 'fast'"), g.err());
        assertFalse(Files.exists(bad), "nothing written for a usage error");
    }

    @Test
    void trainAndSweepRunSmallConfigurations(@TempDir Path dir) throws Exception {
        CliRun t = run("toy", "train", "--n", "6", "--m", "2", "--experts", "2", "--k", "1", "--sparsity", "0.7",
                "--steps", "200", "--batch", "128", "--seeds", "2", "--out", dir.resolve("t").toString(), "--no-progress");
        assertEquals(0, t.code(), t.err());
        assertTrue(Files.exists(dir.resolve("t/model.safetensors")));
        assertTrue(Files.exists(dir.resolve("t/model-bars.png")));
        CliRun s = run("toy", "sweep", "--n", "2", "--m", "1", "--sparsity", "0.1,0.5", "--last-importance", "0.5,2",
                "--experts", "1,2", "--k", "1,2", "--steps", "100", "--batch", "64", "--load-balancing", "0.01",
                "--out", dir.resolve("s").toString(), "--no-progress");
        assertEquals(0, s.code(), s.err());
        JsonObject sum = JsonParser.parseString(Files.readString(dir.resolve("s/summary.json"))).getAsJsonObject();
        // E=1: k=1 only; E=2: k=1, 2 → 3 architectures × 2 sparsities × 2 importances
        assertEquals(12, sum.getAsJsonObject("results").getAsJsonArray("cells").size());

        // neither overwrites a previous run (a second sweep used to mix old weights with a new summary)
        byte[] trained = Files.readAllBytes(dir.resolve("t/summary.json"));
        assertPreviousRunRefused(run("toy", "train", "--n", "6", "--m", "2", "--sparsity", "0.7", "--steps", "10",
                "--out", dir.resolve("t").toString(), "--no-progress"), dir.resolve("t"));
        assertArrayEquals(trained, Files.readAllBytes(dir.resolve("t/summary.json")));
        byte[] swept = Files.readAllBytes(dir.resolve("s/summary.json"));
        assertPreviousRunRefused(run("toy", "sweep", "--n", "2", "--m", "1", "--sparsity", "0.1", "--experts", "1",
                "--k", "1", "--steps", "10", "--out", dir.resolve("s").toString(), "--no-progress"), dir.resolve("s"));
        assertArrayEquals(swept, Files.readAllBytes(dir.resolve("s/summary.json")));
    }

    @Test
    void invalidShapesAndValuesAreOneLineUsageErrors(@TempDir Path dir) {
        String out = dir.resolve("x").toString();
        CliRun k = run("toy", "train", "--n", "5", "--m", "2", "--experts", "2", "--k", "3", "--sparsity", "0.5",
                "--out", out);
        assertEquals(2, k.code());
        assertEquals("moescope: active experts (k) must be at most the number of experts 2, got 3", k.err().strip());
        CliRun m = run("toy", "train", "--n", "5", "--m", "0", "--sparsity", "0.5", "--out", out);
        assertEquals(2, m.code());
        assertTrue(m.err().startsWith("moescope: hidden (m) must be positive"), m.err());
        CliRun s = run("toy", "train", "--n", "5", "--m", "2", "--sparsity", "1.0", "--out", out);
        assertEquals(2, s.code());
        assertTrue(s.err().contains("sparsity S must be in [0.0, 1.0)"), s.err());
        CliRun init = run("toy", "train", "--n", "5", "--m", "2", "--sparsity", "0.5", "--router-init", "gauss",
                "--out", out);
        assertEquals(2, init.code());
        assertTrue(init.err().contains("unknown router init 'gauss'"), init.err());
        CliRun name = run("toy", "reproduce", "fig99", "--out", out);
        assertEquals(2, name.code());
        assertTrue(name.err().contains("unknown experiment 'fig99'"), name.err());
        assertEquals(1, name.err().strip().lines().count());
        assertFalse(Files.exists(dir.resolve("x/summary.json")));
    }
}
