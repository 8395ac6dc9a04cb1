package dev.moescope.cli.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;

/**
 * The claims the demo checks against its own stages' numbers: the papers' claims that the fixture run can speak
 * to (MoE superposition, MoE Lens, OLMoE routing) and the quality bars of the dictionaries. Each reads one stage's
 * {@code summary.json}; a stage that did not run gives no claim. The fixture models are tiny, so a claim that
 * fails here says what this run shows, not that the paper is wrong.
 */
final class DemoClaims {

    private DemoClaims() {
    }

    static List<Claim> check(DemoRun run) {
        List<Claim> out = new ArrayList<>();
        toyFig3(run.summary(DemoReport.TOY_FIG3), out);
        toyFig4(run.summary(DemoReport.TOY_FIG4), out);
        lens(run.summary(DemoReport.PROBE_LENS), out);
        topKCheck(run.summary(DemoReport.STORE_MOE), out);
        routing(run.summary(DemoReport.PROBE_ANALYSIS), out);
        sae(run.summary(DemoReport.SAE_EVAL), out);
        return out;
    }

    private static void toyFig3(Doc s, List<Claim> out) {
        List<Doc> families = s.list("results.families");
        if (families.size() < 2) {
            return;
        }
        Doc dense = null;
        for (Doc f : families) {
            if (f.num("architecture.experts") == 1) {
                dense = f;
            }
        }
        if (dense == null) {
            return;
        }
        double[] x = s.nums("results.x_inverse_density");
        double denseLast = last(dense.nums("features_per_dimension"));
        StringJoiner measured = new StringJoiner("; ");
        boolean allBelow = true;
        StringJoiner rising = new StringJoiner("; ");
        boolean allRise = true;
        for (Doc f : families) {
            double[] fpd = f.nums("features_per_dimension");
            if (fpd.length == 0) {
                continue;
            }
            measured.add(f.str("label") + " " + fmt(last(fpd)));
            rising.add(f.str("label") + " " + fmt(fpd[0]) + " → " + fmt(last(fpd)));
            allRise &= last(fpd) > fpd[0];
            if (f != dense) {
                allBelow &= last(fpd) < denseLast;
            }
        }
        out.add(new Claim("MoE superposition paper (Fig 3): experts superpose less than a dense model of the same "
                + "total width, i.e. fewer features per dimension at high feature sparsity",
                "every MoE family below the dense model at the sparsest point (1/(1−S) = " + fmt(last(x)) + ")",
                measured.toString(), allBelow));
        out.add(new Claim("Toy models (TMS, MoE paper Fig 3): superposition grows with feature sparsity",
                "features per dimension higher at the sparsest point than with dense features, in every family",
                rising.toString(), allRise));
    }

    private static void toyFig4(Doc s, List<Claim> out) {
        double analytic = s.num("results.analytic.n2m1_roughness");
        List<Doc> configs = s.list("results.configs");
        if (configs.isEmpty() || Double.isNaN(analytic)) {
            return;
        }
        StringJoiner measured = new StringJoiner("; ");
        boolean rougher = true;
        for (Doc c : configs) {
            for (Doc p : c.list("panels")) {
                measured.add(p.str("panel") + " " + fmt(p.num("roughness")));
                rougher &= p.num("roughness") > analytic;
            }
        }
        boolean quick = "true".equals(s.str("results.quick"));
        out.add(new Claim("MoE superposition paper (Fig 4): no sharp phase change in MoEs, the last feature's class "
                + "changes irregularly over the (sparsity, importance) grid",
                "MoE phase-map roughness above the analytic dense map's " + fmt(analytic)
                        + (quick ? " (undecided at --quick: 1 seed and short training also make a map rough; "
                        + "run demo --full)" : ""),
                "roughness " + measured, quick ? null : rougher));
    }

    private static void lens(Doc s, List<Claim> out) {
        List<Doc> ppl = s.list("report.perplexity");
        if (ppl.isEmpty()) {
            return;
        }
        String variant = ppl.stream().anyMatch(p -> "raw".equals(p.str("variant"))) ? "raw" : "model";
        StringJoiner measured = new StringJoiner("; ");
        double worst = 0;
        for (Doc p : ppl) {
            if (p.num("k") == 1 && variant.equals(p.str("variant")) && !"all".equals(p.str("domain"))) {
                measured.add(p.str("domain") + " " + fmt(p.num("ratioToFullK")));
                worst = Math.max(worst, p.num("ratioToFullK"));
            }
        }
        out.add(new Claim("MoE Lens: perplexity rises by only about 5% when each token uses its single top expert",
                "top-1 / top-" + fmt(s.num("report.fullK")) + " perplexity ratio ≤ 1.05 in every domain ("
                        + variantName(variant) + ")",
                measured.toString(), worst > 0 ? worst <= 1.05 : null));

        double best = Double.NaN;
        int bestLayer = -1;
        for (Doc c : s.list("report.cosine")) {
            if (c.num("k") == 1 && variant.equals(c.str("variant"))
                    && (Double.isNaN(best) || c.num("meanCosine") > best)) {
                best = c.num("meanCosine");
                bestLayer = (int) c.num("layer");
            }
        }
        if (!Double.isNaN(best)) {
            out.add(new Claim("MoE Lens: the residual stream computed with the top expert alone is close to the "
                    + "full top-k one, cosine \"as high as 0.95\" in some layers",
                    "max over layers of the mean cosine ≥ 0.95 (" + variantName(variant) + ")",
                    fmt(best) + " at layer " + bestLayer, best >= 0.95));
        }

        double[] agreement = s.list("report.logitLens").stream().mapToDouble(d -> d.num("top1Agreement")).toArray();
        if (agreement.length > 1) {
            boolean rising = true;
            StringJoiner m = new StringJoiner(", ");
            for (int i = 0; i < agreement.length; i++) {
                m.add("layer " + i + " " + fmt(agreement[i]));
                rising &= i == 0 || agreement[i] >= agreement[i - 1] - 1e-9;
            }
            out.add(new Claim("Logit lens: each layer's residual stream decodes to the model's own next-token "
                    + "prediction more often with depth, exactly at the last layer",
                    "top-1 agreement non-decreasing with layer and 1 at the last layer",
                    m.toString(), rising && Math.abs(last(agreement) - 1) < 1e-9));
        }
    }

    private static void topKCheck(Doc s, List<Claim> out) {
        double checked = s.num("graphTopKChecked");
        if (!(checked > 0)) {
            return;
        }
        double mismatches = s.num("graphTopKMismatches");
        out.add(new Claim("Probe: the top-k experts re-derived in Java from the router logits are the ones the "
                + "model's own TopK picked",
                "0 mismatches", String.format(Locale.ROOT, "%.0f mismatches in %.0f token-layer choices", mismatches,
                checked), mismatches == 0));
    }

    private static void routing(Doc s, List<Claim> out) {
        List<Doc> domains = s.list("summary.domains");
        if (!domains.isEmpty()) {
            StringJoiner measured = new StringJoiner("; ");
            boolean any = false;
            for (Doc d : domains) {
                if ("all".equals(d.str("domain"))) {
                    continue;
                }
                measured.add(String.format(Locale.ROOT, "%s %s (layer %.0f, expert %.0f)", d.str("domain"),
                        fmt(d.num("maxShare")), d.num("maxShareLayer"), d.num("maxShareExpert")));
                any |= d.num("maxShare") > 0.5;
            }
            out.add(new Claim("MoE Lens: in specialised domains single experts handle over 50% of the routing "
                    + "decisions in a layer",
                    "some domain has an expert chosen for > 50% of its tokens in some layer (uniform: "
                            + fmt(s.num("summary.uniformShare")) + ")",
                    "largest share per domain: " + measured, any));
        }
        List<Doc> layers = s.list("summary.layers");
        if (!layers.isEmpty() && layers.get(0).get("consecutive").present()) {
            StringJoiner measured = new StringJoiner(", ");
            boolean above = true;
            double random = layers.get(0).num("consecutive.firstChoiceRandom");
            for (Doc l : layers) {
                measured.add("layer " + fmt(l.num("layer")) + " " + fmt(l.num("consecutive.firstChoice")));
                above &= l.num("consecutive.firstChoice") > l.num("consecutive.firstChoiceRandom");
            }
            out.add(new Claim("OLMoE: consecutive tokens are routed to the same top-1 expert more often than chance",
                    "same-top-1 rate above chance 1/E = " + fmt(random) + " in every layer",
                    measured.toString(), above));
        }
    }

    private static void sae(Doc s, List<Claim> out) {
        if (!s.present()) {
            return;
        }
        double fve = s.num("withThreshold.fvePooled");
        if (!Double.isNaN(fve)) {
            out.add(new Claim("SAE quality bar: the BatchTopK SAE reconstructs the MoE's residual stream on "
                    + "held-out documents", "fraction of variance explained ≥ 0.90 (threshold inference)",
                    fmt(fve), fve >= 0.9));
        }
        double ce = s.num("ceLoss.recovered");
        if (!Double.isNaN(ce)) {
            out.add(new Claim("SAE quality bar: splicing the reconstruction into the model keeps its next-token loss",
                    "CE loss recovered ≥ 0.90 (zero ablation = 0, clean = 1)",
                    fmt(ce) + String.format(Locale.ROOT, " (clean %s, SAE %s, zero-ablated %s nats)",
                            fmt(s.num("ceLoss.ceClean")), fmt(s.num("ceLoss.ceSae")),
                            fmt(s.num("ceLoss.ceZeroAblation"))), ce >= 0.9));
        }
        double dead = s.num("density.deadFraction");
        if (!Double.isNaN(dead)) {
            out.add(new Claim("SAE quality bar: few dead latents", "< 10% of latents never fire on held-out tokens",
                    String.format(Locale.ROOT, "%.1f%%", 100 * dead), dead < 0.1));
        }
        double l0 = s.num("withThreshold.l0");
        double k = s.num("k");
        if (!Double.isNaN(l0) && k > 0) {
            out.add(new Claim("BatchTopK: the learned inference threshold keeps the mean number of active latents "
                    + "near the training k", "threshold L0 within 25% of k = " + fmt(k),
                    "L0 " + fmt(l0), Math.abs(l0 - k) <= 0.25 * k));
        }
    }

    private static String variantName(String variant) {
        return "raw".equals(variant) ? "raw softmax weights, as MoE Lens" : "the model's own expert weighting";
    }

    private static double last(double[] a) {
        return a.length == 0 ? Double.NaN : a[a.length - 1];
    }

    static String fmt(double v) {
        return Svg.num(v);
    }
}
