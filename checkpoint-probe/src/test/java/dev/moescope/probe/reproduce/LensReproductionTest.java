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

/** Targets 3 and 4 on small CSVs in MoE Lens's released layout, written here with hand-computed values. */
class LensReproductionTest {

    /** english: top-1 samples 2 and 8 (geometric mean 4), top-2 samples 2 and 2 (2); gsm8k: 3,3 and 1,1. */
    static Path perplexityData(Path dir, String releasedEnglishTop1) throws Exception {
        Path pplx = Files.createDirectories(dir.resolve("pplx"));
        Files.writeString(pplx.resolve("english_perplexity_top1.csv"), "english_num,perplexity,chunks\n1,2.0,1\n2,8.0,1\n");
        Files.writeString(pplx.resolve("english_perplexity_top2.csv"), "english_num,perplexity,chunks\n1,2.0,1\n2,2.0,1\n");
        Files.writeString(pplx.resolve("gsm8k_perplexity_top1.csv"), "gsm8k_num,perplexity\n1,3.0\n2,3.0\n");
        Files.writeString(pplx.resolve("gsm8k_perplexity_top2.csv"), "gsm8k_num,perplexity\n1,1.0\n2,1.0\n");
        Files.writeString(pplx.resolve("all_domains_mean_perplexities.csv"), "ignored\n");
        Path rel = Files.createDirectories(dir.resolve("pplx-data"));
        Files.writeString(rel.resolve("all_domains_mean_perplexities.csv"), "Selection,Log_Perplexity,Perplexity,Domain\n"
                + "Top 1," + Math.log(4) + "," + releasedEnglishTop1 + ",english\n"
                + "Top 2," + Math.log(2) + ",2.0,english\n"
                + "Top 1," + Math.log(3) + ",3.0,gsm8k\n"
                + "Top 2,0.0,1.0,gsm8k\n");
        return dir;
    }

    @Test
    void perplexityGeometricMeansRatiosAndTheFivePercentClaim(@TempDir Path dir) throws Exception {
        Reproduction r = ReproductionTarget.LENS_PERPLEXITY.run(perplexityData(dir, "4.0"), null);
        // english: check, claim; gsm8k: check, claim
        assertEquals(4, r.checks().size(), r.markdown());
        assertEquals(Check.Status.MET, r.checks().get(0).status(), r.markdown());
        Check claim = r.checks().get(1);
        assertEquals("english: perplexity top-1 / top-2", claim.quantity());
        assertEquals("2.000 (top-2: 1.000)", claim.ours());
        assertEquals(Check.Status.NOT_MET, claim.status()); // 4 / 2 is +100 %, not +5 %
        var ratios = r.tables().get("perplexity_ratios").rows();
        assertEquals("2.0", ratios.get(0).get(2));
        assertEquals(Double.toString(Math.log(4) - Math.log(2)), ratios.get(0).get(4));
        assertEquals(3.0, Double.parseDouble(ratios.get(1).get(2)), 1e-15);
        assertEquals(2, r.inputs().size());

        // a released mean that differs from the per-sample CSVs beyond printed precision is not met
        Path other = Files.createDirectories(dir.resolve("other"));
        Reproduction off = ReproductionTarget.LENS_PERPLEXITY.run(perplexityData(other, "4.001"), null);
        assertEquals(Check.Status.NOT_MET, off.checks().get(0).status());
        assertTrue(off.checks().get(0).ours().contains("2.5e-04"), off.checks().get(0).ours());
    }

    @Test
    void perplexityBadInput(@TempDir Path dir) throws Exception {
        perplexityData(dir, "4.0");
        Path f = dir.resolve("pplx/english_perplexity_top2.csv");
        Files.writeString(f, "english_num,perplexity,chunks\n1,abc,1\n");
        MoescopeException e = assertThrows(MoescopeException.class,
                () -> ReproductionTarget.LENS_PERPLEXITY.run(dir, null));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        assertEquals(f + ": line 2 column perplexity: 'abc' is not a finite number", e.getMessage());
        Files.writeString(f, "english_num,chunks\n1,1\n");
        e = assertThrows(MoescopeException.class, () -> ReproductionTarget.LENS_PERPLEXITY.run(dir, null));
        assertTrue(e.getMessage().startsWith(f + ": no column perplexity"), e.getMessage());
        e = assertThrows(MoescopeException.class,
                () -> ReproductionTarget.LENS_PERPLEXITY.run(dir.resolve("missing"), null));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        e = assertThrows(MoescopeException.class, () -> ReproductionTarget.LENS_PERPLEXITY.run(null, null));
        assertEquals(ExitCode.USAGE, e.exitCode());
    }

    /** arxiv's prompts carry MoE Lens's longer prefix; two prompts, three layers. */
    static Path cosineData(Path dir) throws Exception {
        Path csv = Files.createDirectories(dir.resolve("cosine-sim-csv"));
        Path avg = Files.createDirectories(dir.resolve("cosine-sim-avg"));
        String h = "layer,final_vs_top1,final_vs_topk,top1_vs_topk\n";
        Files.writeString(csv.resolve("arxiv_title_abstract_chunked_prompt_1_cos-sim.csv"),
                h + "1,0.1,0.2,1.0\n2,0.1,0.2,0.5\n3,0.1,0.2,0.75\n");
        Files.writeString(csv.resolve("arxiv_title_abstract_chunked_prompt_2_cos-sim.csv"),
                h + "1,0.1,0.2,0.5\n2,0.1,0.2,0.25\n3,0.1,0.2,1.0\n");
        Files.writeString(csv.resolve("english_chunked_prompt_1_cos-sim.csv"), h + "1,0,0,1.0\n2,0,0,1.0\n3,0,0,0.5\n");
        Files.writeString(avg.resolve("arxiv_averaged_top1_vs_topk.csv"), "layer,avg_top1_vs_topk\n1,0.75\n2,0.375\n3,0.875\n");
        Files.writeString(avg.resolve("english_averaged_top1_vs_topk.csv"), "layer,avg_top1_vs_topk\n1,1.0\n2,1.0\n3,0.5\n");
        return dir;
    }

    @Test
    void cosineAveragesReproduceAndSummarise(@TempDir Path dir) throws Exception {
        Reproduction r = ReproductionTarget.LENS_COSINE.run(cosineData(dir), null);
        assertEquals(Check.Status.MET, r.checks().get(0).status(), r.markdown());
        assertTrue(r.checks().get(0).quantity().startsWith("arxiv: mean of 2 prompt CSVs"), r.checks().get(0).quantity());
        assertEquals("0.6667; 0.3750 (layer 2)", r.checks().get(1).ours());
        assertEquals("0.8333; 0.5000 (layer 3)", r.checks().get(3).ours());
        assertEquals((0.75 + 0.375 + 0.875 + 1 + 1 + 0.5) / 6, (Double) r.figures().get("allDomainMean"), 1e-15);

        Files.writeString(dir.resolve("cosine-sim-avg/english_averaged_top1_vs_topk.csv"),
                "layer,avg_top1_vs_topk\n1,1.0\n2,0.99\n3,0.5\n");
        Reproduction off = ReproductionTarget.LENS_COSINE.run(dir, null);
        assertEquals(Check.Status.NOT_MET, off.checks().get(2).status(), off.markdown());

        Files.writeString(dir.resolve("cosine-sim-csv/english_chunked_prompt_1_cos-sim.csv"),
                "layer,final_vs_top1,final_vs_topk,top1_vs_topk\n1,0,0,1.0\n2,0,0,1.0\n");
        MoescopeException e = assertThrows(MoescopeException.class, () -> ReproductionTarget.LENS_COSINE.run(dir, null));
        assertTrue(e.getMessage().endsWith("english_chunked_prompt_1_cos-sim.csv: its layers differ from "
                + "english_averaged_top1_vs_topk.csv's"), e.getMessage());
    }
}
