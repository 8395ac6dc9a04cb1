package dev.moescope.cli.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Section 5: the BatchTopK SAE on one MoE hook: training, held-out quality, density, top contexts. */
final class SaeSection {

    /** Latents shown with their top contexts, and contexts per latent. */
    private static final int LATENTS_SHOWN = 8;
    private static final int CONTEXTS_SHOWN = 3;

    private SaeSection() {
    }

    static void render(Html h, DemoRun run, TokenText text) {
        h.raw("<section id=\"sae\">").h(2, null, "5. Sparse autoencoder on the MoE's residual stream");
        DemoRun.Stage train = run.stage(DemoReport.SAE_TRAIN);
        DemoRun.Stage eval = run.stage(DemoReport.SAE_EVAL);
        h.h(3, "sae-train", "Training");
        if (ReportPage.require(h, train, "SAE training")) {
            Doc t = train.summary();
            h.p(String.format(Locale.ROOT, "A BatchTopK SAE with %s latents and k = %s (mean active latents per "
                            + "token) on %s of the store, %s steps of %s tokens (%s tokens, %s tokens/s). Final "
                            + "training batch: loss %s, L0 %s, dead %s%%; learned inference threshold %s.",
                    Svg.num(t.num("config.latents")), Svg.num(t.num("config.k")), ReportPage.nz(t.str("hook")),
                    Svg.num(t.num("steps")), Svg.num(t.num("config.batchSize")), Svg.num(t.num("tokens")),
                    Svg.num(t.num("tokensPerSecond")), Svg.num(t.num("finalLoss")), Svg.num(t.num("finalL0")),
                    Svg.num(100 * t.num("finalDeadFraction")), Svg.num(t.num("threshold"))));
            ReportPage.listedFigures(h, train);
        }
        h.h(3, "sae-eval", "Held-out quality: FVE, L0, dead latents, CE loss recovered");
        if (!ReportPage.require(h, eval, "SAE evaluation")) {
            h.raw("</section>\n");
            return;
        }
        Doc e = eval.summary();
        h.p("Measured on " + Svg.num(e.num("tokens")) + " tokens of held-out documents (never seen in training).");
        List<List<String>> rows = new ArrayList<>();
        for (String[] mode : new String[][] {{"withThreshold", "threshold θ (inference)"},
            {"withBatchTopK", "batch top-k (training)"}}) {
            Doc m = e.get(mode[0]);
            rows.add(List.of(mode[1], Svg.num(m.num("fvePooled")), Svg.num(m.num("fvePerToken")),
                    Svg.num(m.num("mse")), Svg.num(m.num("l0")), Svg.num(m.num("cosine")),
                    Svg.num(m.num("normRatio"))));
        }
        h.table(List.of("encoding", "FVE (pooled)", "FVE (per token)", "MSE", "L0", "cos(x, x̂)", "|x̂| / |x|"), rows,
                1);
        h.p("FVE is the fraction of variance explained, 1 − Σ|x − x̂|² / Σ|x − x̄|²; L0 the mean number of active "
                + "latents per token; |x̂|/|x| below 1 is the usual shrinkage.");
        Doc ce = e.get("ceLoss");
        if (ce.present()) {
            h.table(List.of("next-token loss (nats/token)", "clean", "SAE spliced in", "mean-ablated", "zero-ablated",
                            "recovered (zero)", "recovered (mean)"),
                    List.of(List.of("on " + Svg.num(ce.num("tokens")) + " held-out tokens", Svg.num(ce.num("ceClean")),
                            Svg.num(ce.num("ceSae")), Svg.num(ce.num("ceMeanAblation")),
                            Svg.num(ce.num("ceZeroAblation")), Svg.num(ce.num("recovered")),
                            Svg.num(ce.num("recoveredFromMean")))), 1);
            h.p("CE loss recovered = (CE_ablated − CE_SAE) / (CE_ablated − CE_clean): the share of the hook's "
                    + "contribution to the model's loss the reconstruction keeps (1 = as good as the real "
                    + "activations). The hook was reproduced to max |Δ| " + Svg.num(ce.num("hookMaxAbsDiff"))
                    + " before splicing.");
        }
        h.png(eval.file("density.png"), "latent activation density histogram",
                String.format(Locale.ROOT, "How often each latent fires (log10 of the fraction of held-out tokens), "
                                + "as a histogram over latents; dead latents (never fire) sit in the leftmost bar. "
                                + "Dead: %s%%, dense (> %s): %s%%, median log10 density %s. Look for: one hump well "
                                + "below 0 (sparse, used latents), few dead and few dense latents.",
                        Svg.num(100 * e.num("density.deadFraction")), Svg.num(e.num("density.denseCutoff")),
                        Svg.num(100 * e.num("density.denseFraction")), Svg.num(e.num("density.medianLog10"))));
        contexts(h, eval, text);
        ReportPage.listedFigures(h, eval);
        h.raw("</section>\n");
    }

    /** Latents whose top contexts mostly come from one domain, with their strongest contexts. */
    private static void contexts(Html h, DemoRun.Stage eval, TokenText text) {
        h.h(3, "sae-contexts", "Top-activating contexts");
        Doc ctx = Doc.read(eval.file("contexts.json"));
        List<Doc> latents = ctx.list("latents");
        if (latents.isEmpty()) {
            h.missing("Top contexts: contexts.json not found or empty.");
            return;
        }
        record Pick(Doc latent, String domain, double purity, double top) {
        }
        List<Pick> picks = new ArrayList<>();
        for (Doc l : latents) {
            List<Doc> top = l.list("top");
            if (top.size() < 5) {
                continue;
            }
            Map<String, Integer> byDomain = new HashMap<>();
            top.forEach(c -> byDomain.merge(ReportPage.nz(c.str("domain")), 1, Integer::sum));
            var best = byDomain.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow();
            picks.add(new Pick(l, best.getKey(), best.getValue() / (double) top.size(), top.get(0).num("activation")));
        }
        picks.sort(Comparator.comparingDouble(Pick::purity).thenComparingDouble(Pick::top).reversed());
        // the best latents of each domain in turn, so every domain shows, not only the easiest one
        Map<String, List<Pick>> byDomain = new java.util.TreeMap<>();
        picks.forEach(p -> byDomain.computeIfAbsent(p.domain(), d -> new ArrayList<>()).add(p));
        List<Pick> shown = new ArrayList<>();
        for (int round = 0; shown.size() < LATENTS_SHOWN && round < LATENTS_SHOWN; round++) {
            for (List<Pick> domainPicks : byDomain.values()) {
                if (round < domainPicks.size() && shown.size() < LATENTS_SHOWN) {
                    shown.add(domainPicks.get(round));
                }
            }
        }
        h.p("Of the " + latents.size() + " latents with contexts, for each domain in turn the ones whose top "
                + Svg.num(ctx.num("perLatent")) + " contexts come most from that domain (ties broken by activation), "
                + "each with its " + CONTEXTS_SHOWN + " strongest contexts; the token the latent "
                + "fires on is highlighted" + (text.decodes() ? "" : " (token ids: the tokenizer was not found)")
                + ". Look for: latents that read as one idea (a syntax element, a topic word) rather than noise.");
        h.raw("<table><thead><tr><th class=\"num\">latent</th><th>domain of top contexts</th>"
                + "<th class=\"num\">activation</th><th>context</th></tr></thead><tbody>\n");
        for (Pick p : shown) {
            List<Doc> top = p.latent().list("top");
            for (int i = 0; i < Math.min(CONTEXTS_SHOWN, top.size()); i++) {
                Doc c = top.get(i);
                h.raw("<tr>");
                if (i == 0) {
                    int span = Math.min(CONTEXTS_SHOWN, top.size());
                    h.raw("<td class=\"num\" rowspan=\"" + span + "\">").text(Svg.num(p.latent().num("latent")))
                            .raw("</td><td rowspan=\"" + span + "\">")
                            .text(String.format(Locale.ROOT, "%s (%.0f%%)", p.domain(), 100 * p.purity()))
                            .raw("</td>");
                }
                h.raw("<td class=\"num\">").text(Svg.num(c.num("activation"))).raw("</td><td class=\"context\">")
                        .raw(context(c, text)).raw("</td></tr>\n");
            }
        }
        h.raw("</tbody></table>\n");
    }

    private static String context(Doc c, TokenText text) {
        List<Doc> tokens = c.list("contextTokens");
        int active = (int) c.num("activeIndex");
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < tokens.size(); i++) {
            String t = text.token(tokens.get(i).toString()).replace("\n", "⏎").replace("\t", "⇥");
            if (!text.decodes() && i > 0) {
                b.append(' ');
            }
            b.append(i == active ? "<mark>" + Html.esc(t) + "</mark>" : Html.esc(t));
        }
        return b.toString();
    }
}
