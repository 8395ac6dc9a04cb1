package dev.moescope.cli.report;

import dev.moescope.core.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The report from constructed demo outputs, without a browser: the generic {@code claims}/{@code figures}
 * convention of any stage summary, failed and missing stages said as such, and the demo's own claims judged on
 * their thresholds.
 */
class DemoReportTest {

    private static Map<String, Object> stage(String key, String out, int exit) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("key", key);
        s.put("stage", "stage " + key);
        s.put("command", "moescope " + key.replace('.', ' ') + " --out " + out);
        s.put("out", out);
        s.put("exit_code", exit);
        s.put("seconds", 1.5);
        return s;
    }

    private static void writeDemo(Path dir, List<Map<String, Object>> stages) {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("mode", "quick");
        summary.put("stages", stages);
        summary.put("not_yet_built", List.of());
        Json.write(dir.resolve("summary.json"), summary);
    }

    @Test
    void anyStageSummaryClaimsAndFiguresAreRendered(@TempDir Path dir) throws Exception {
        Path diff = Files.createDirectories(dir.resolve("crosscoder/diff"));
        BufferedImage img = new BufferedImage(40, 20, BufferedImage.TYPE_INT_RGB);
        ImageIO.write(img, "png", diff.resolve("relative-norms.png").toFile());
        Json.write(diff.resolve("summary.json"), Map.of(
                "fve_pooled", 0.88,
                "claims", List.of(
                        Map.of("claim", "FVE near 0.87", "expected", "0.8 to 0.95", "measured", "0.88",
                                "supported", true),
                        Map.of("claim", "fewer MoE-specific latents", "expected", "MoE < dense", "measured",
                                "12 vs 5", "supported", false),
                        Map.of("claim", "density ordering", "expected", "MoE > shared > dense", "measured", "n/a")),
                "figures", List.of(Map.of("file", "relative-norms.png", "caption", "Relative decoder norms <r>"))));
        writeDemo(dir, List.of(stage(DemoReport.PROBE_LENS, "probe/lens", 3),
                stage(DemoReport.CROSSCODER_DIFF, "crosscoder/diff", 0)));

        String html = Files.readString(DemoReport.write(dir, null));

        for (String id : DemoReport.SECTIONS) {
            assertTrue(html.contains("<section id=\"" + id + "\">"), id);
        }
        assertTrue(html.contains("FVE near 0.87") && html.contains("✔ supported"), "supported claim");
        assertTrue(html.contains("fewer MoE-specific latents") && html.contains("✘ not supported"), "refuted claim");
        assertTrue(html.contains("density ordering") && html.contains("– undecided"), "undecided claim");
        String png = Base64.getEncoder().encodeToString(Files.readAllBytes(diff.resolve("relative-norms.png")));
        assertTrue(html.contains("src=\"data:image/png;base64," + png + "\""), "figure not embedded");
        assertTrue(html.contains("Relative decoder norms &lt;r&gt;"), "caption not escaped");
        assertTrue(html.contains("the stage failed (exit 3)"), "failed lens stage not said");
        assertTrue(html.contains("SAE training: this stage was not run."), "missing SAE stage not said");
        assertFalse(html.contains("src=\"http") || html.contains("href=\"http"), "external reference");
    }

    @Test
    void claimsAreJudgedOnTheirThresholds(@TempDir Path dir) {
        Path lens = dir.resolve("probe/lens");
        Json.write(lens.resolve("summary.json"), Map.of("report", Map.of("fullK", 2,
                "perplexity", List.of(
                        Map.of("k", 1, "variant", "raw", "domain", "code", "ratioToFullK", 1.04),
                        Map.of("k", 1, "variant", "raw", "domain", "news", "ratioToFullK", 1.06),
                        Map.of("k", 1, "variant", "model", "domain", "news", "ratioToFullK", 1.01)),
                "cosine", List.of(Map.of("k", 1, "variant", "raw", "layer", 0, "meanCosine", 0.96)))));
        Path eval = dir.resolve("sae/moe/eval");
        Json.write(eval.resolve("summary.json"), Map.of("k", 16,
                "withThreshold", Map.of("fvePooled", 0.899, "l0", 11.9),
                "density", Map.of("deadFraction", 0.05)));
        Path fig4 = dir.resolve("toy/fig4");
        Json.write(fig4.resolve("summary.json"), Map.of("results", Map.of("quick", true,
                "analytic", Map.of("n2m1_roughness", 0.14),
                "configs", List.of(Map.of("config", "A.E2", "panels",
                        List.of(Map.of("panel", "A.1/2", "roughness", 0.6)))))));
        writeDemo(dir, List.of(stage(DemoReport.PROBE_LENS, "probe/lens", 0),
                stage(DemoReport.SAE_EVAL, "sae/moe/eval", 0), stage(DemoReport.TOY_FIG4, "toy/fig4", 0)));

        List<Claim> claims = DemoReport.claims(dir);
        assertEquals(Boolean.FALSE, find(claims, "about 5%").supported(), "news 1.06 > 1.05 on raw weights");
        assertTrue(find(claims, "about 5%").measured().contains("news 1.06"));
        assertEquals(Boolean.TRUE, find(claims, "as high as 0.95").supported());
        assertEquals(Boolean.FALSE, find(claims, "reconstructs").supported(), "0.899 < 0.90");
        assertEquals(Boolean.TRUE, find(claims, "few dead").supported());
        assertEquals(Boolean.FALSE, find(claims, "inference threshold").supported(), "11.9 is more than 25% below 16");
        assertNull(find(claims, "no sharp phase change").supported(), "a --quick run cannot decide Fig 4");
    }

    private static Claim find(List<Claim> claims, String text) {
        return claims.stream().filter(c -> c.claim().contains(text)).findFirst()
                .orElseThrow(() -> new AssertionError("no claim with '" + text + "' in " + claims));
    }
}
