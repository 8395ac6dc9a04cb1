package dev.moescope.cli.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Section 6: the crosscoder trained jointly on the MoE and dense stores, and its diff. The diff's summary is
 * rendered generically (its claims, its listed figures, its scalar numbers), so whatever the diff reports shows.
 */
final class CrosscoderSection {

    private CrosscoderSection() {
    }

    static void render(Html h, DemoRun run) {
        h.raw("<section id=\"crosscoder\">").h(2, null, "6. Crosscoder: MoE vs dense");
        h.p("A crosscoder learns one dictionary for two models at once: each latent has an encoder and a decoder per "
                + "model, reading the MoE's and the dense twin's residual streams on the same token. A latent whose "
                + "decoder is large for both models is shared; one that only decodes into one model is specific to "
                + "it (Chaudhari, Hundia & Gulati, Sparse Crosscoders for diffing MoEs and Dense models).");
        train(h, run.stage(DemoReport.CROSSCODER_TRAIN));
        diff(h, run, run.stage(DemoReport.CROSSCODER_DIFF));
        h.raw("</section>\n");
    }

    private static void train(Html h, DemoRun.Stage s) {
        h.h(3, "crosscoder-train", "Training on the paired stores");
        if (!ReportPage.require(h, s, "Crosscoder training")) {
            return;
        }
        Doc t = s.summary();
        double[] recon = t.nums("final_reconstruction_per_source");
        List<String> sources = t.list("sources").stream().map(Doc::toString).toList();
        List<List<String>> rows = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) {
            rows.add(List.of(i == 0 ? "A" : i == 1 ? "B" : Character.toString('A' + i), sources.get(i),
                    i < recon.length ? Svg.num(recon[i]) : "n/a"));
        }
        h.p(String.format(Locale.ROOT, "%s steps in %s s; final loss %s, L0 %s, dead %s%%, inference threshold %s.",
                Svg.num(t.num("steps")), Svg.num(t.num("seconds")), Svg.num(t.num("final_loss")),
                Svg.num(t.num("l0")), Svg.num(100 * t.num("dead_fraction")), Svg.num(t.num("threshold"))));
        h.table(List.of("source", "store : hook", "final reconstruction loss"), rows, 2);
        List<String> classes = t.keys("latent_classes_first_two_sources");
        if (!classes.isEmpty()) {
            double[] counts = classes.stream()
                    .mapToDouble(c -> t.num("latent_classes_first_two_sources." + c)).toArray();
            h.figure(Svg.bars(new Svg.Axes("Latents by relative decoder norm (A = MoE, B = dense)", "class",
                            "latents"), classes.stream().map(CrosscoderSection::className).toList(),
                            List.of("latents"), new double[][] {counts}, 0, List.of()),
                    "Each latent classed by its relative decoder norm r = |d_B| / (|d_A| + |d_B|) with the "
                            + "spec's default bands: shared for 0.3 < r < 0.7, MoE-specific for r ≤ 1/6, "
                            + "dense-specific for r ≥ 5/6, other in between; designated shared latents have one tied "
                            + "decoder. Look for: how many latents are specific to one model. A short run on two "
                            + "small twins trained on the same data mostly finds shared latents.");
        }
        ReportPage.listedFigures(h, s);
    }

    private static String className(String c) {
        return switch (c) {
            case "SHARED_DESIGNATED" -> "shared, tied";
            case "SHARED" -> "shared";
            case "A_SPECIFIC" -> "MoE-specific";
            case "B_SPECIFIC" -> "dense-specific";
            case "OTHER" -> "other";
            default -> c.toLowerCase(Locale.ROOT).replace('_', ' ');
        };
    }

    private static void diff(Html h, DemoRun run, DemoRun.Stage s) {
        h.h(3, "crosscoder-diff", "Diff: how the two models' features differ");
        if (!ReportPage.require(h, s, "Crosscoder diff")) {
            return;
        }
        List<Claim> claims = Claim.from(s.summary());
        if (!claims.isEmpty()) {
            h.p(claims.size() + " claims from this stage are in the Claims checked table.");
        }
        ReportPage.listedFigures(h, s);
        List<List<String>> rows = new ArrayList<>();
        scalars(s.summary(), "", rows, 0);
        if (!rows.isEmpty()) {
            h.raw("<details><summary>All numbers in the diff's summary.json</summary>");
            h.table(List.of("field", "value"), rows, 1);
            h.raw("</details>");
        }
    }

    /** Flattens the numbers and short strings of a summary (two levels deep) into field/value rows. */
    private static void scalars(Doc d, String prefix, List<List<String>> rows, int depth) {
        for (String k : d.keys("")) {
            if (k.equals("provenance") || k.equals("claims") || k.equals("figures")) {
                continue;
            }
            Doc v = d.get(k);
            if (v.isPrimitive()) {
                double n = v.num("");
                String text = Double.isNaN(n) ? v.toString() : Svg.num(n);
                if (text.length() <= 80) {
                    rows.add(List.of(prefix + k, text));
                }
            } else if (v.isObject() && depth < 2) {
                scalars(v, prefix + k + ".", rows, depth + 1);
            }
        }
    }
}
