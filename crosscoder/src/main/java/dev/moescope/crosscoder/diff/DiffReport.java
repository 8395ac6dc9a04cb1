package dev.moescope.crosscoder.diff;

import dev.moescope.core.json.AtomicFiles;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.sae.eval.Density;
import dev.moescope.sae.eval.StoreContexts;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a diff into a directory: {@value #SUMMARY} (provenance, counts, FVE, per-class density distributions,
 * routing context, the paper's {@code claims} and the {@code figures} with captions), {@value #LATENTS} (one row per
 * latent), {@value #CLASSES} (one row per class), {@code contexts.csv}/{@code contexts.json} (sae's format), the PNG
 * plots and {@value #REPORT}, a short Markdown report of the claims. NaN never reaches JSON: undefined numbers are
 * {@code null} there (written out, not omitted) and empty in the CSVs.
 */
public final class DiffReport {

    public static final String SUMMARY = "summary.json";
    public static final String LATENTS = "latents.csv";
    public static final String CLASSES = "classes.csv";
    public static final String REPORT = "report.md";

    /** Experts listed per latent in the routing context. */
    static final int TOP_EXPERTS = 3;

    private DiffReport() {
    }

    /** The name a class is reported under: specific classes say which model. */
    public static String label(ModelDiff.Result r, LatentClass c) {
        return switch (c) {
            case SHARED_DESIGNATED -> "shared (designated)";
            case SHARED -> "shared (emergent)";
            case A_SPECIFIC -> (r.moeSource() == 0 ? "MoE" : "dense") + "-specific (" + r.sourceModels().get(0) + ")";
            case B_SPECIFIC -> (r.moeSource() == 1 ? "MoE" : "dense") + "-specific (" + r.sourceModels().get(1) + ")";
            case OTHER -> "other";
        };
    }

    /** Writes every output into {@code dir} (which must exist) and returns the summary written. */
    public static Map<String, Object> write(Path dir, ModelDiff.Result r, Provenance provenance) {
        Map<LatentClass, ClassStats> stats = ClassStats.of(r);
        List<Claims.Claim> claims = Claims.evaluate(r, stats);
        Map<Integer, StoreContexts.LatentContexts> contexts = new HashMap<>();
        for (StoreContexts.LatentContexts lc : r.contexts()) {
            contexts.put(lc.latent(), lc);
        }
        AtomicFiles.writeString(dir.resolve(LATENTS), latentsCsv(r, contexts));
        AtomicFiles.writeString(dir.resolve(CLASSES), classesCsv(r, stats));
        if (r.options().contextsPerLatent() > 0) {
            StoreContexts.write(dir, r.contexts(), r.options().stores().get(0), r.options().contextsPerLatent(),
                    dev.moescope.sae.eval.SaeEvaluation.CONTEXT_BEFORE, dev.moescope.sae.eval.SaeEvaluation.CONTEXT_AFTER,
                    provenance);
        }
        List<Map<String, String>> figures = new ArrayList<>();
        DiffPlots.relativeNorms(r, dir.resolve(DiffPlots.RELATIVE_NORMS));
        figures.add(figure(DiffPlots.RELATIVE_NORMS, "Histogram of the relative decoder norm r of every latent except "
                + "the designated shared ones. Shared latents sit in the middle band, source-specific ones near 0 ("
                + r.sourceModels().get(0) + " only) or 1 (" + r.sourceModels().get(1) + " only); the paper expects "
                + "fewer MoE-specific than dense-specific latents, so the MoE end should be the emptier one."));
        DiffPlots.densityByClass(r, stats, dir.resolve(DiffPlots.DENSITY));
        figures.add(figure(DiffPlots.DENSITY, "Log10 activation density of live latents per class. The paper expects "
                + "the MoE-specific curve to the right of the shared ones and the dense-specific curve to their left."));
        DiffPlots.cosine(r, dir.resolve(DiffPlots.COSINE));
        figures.add(figure(DiffPlots.COSINE, "Cosine between a latent's decoder vectors in the two models. It means "
                + "something only when both models share a residual basis (a model and its fine-tune, as in Lindsey "
                + "et al.): then emergent shared latents sit near 1. Two independently trained models (an MoE and a "
                + "dense model) have unrelated bases, so cosines near 0 are expected there and say nothing about "
                + "sharing; the designated shared latents are 1 only because their decoders are tied."));
        if (r.experts() != null) {
            DiffPlots.experts(r, dir.resolve(DiffPlots.EXPERTS));
            figures.add(figure(DiffPlots.EXPERTS, "How concentrated the MoE's routing is on the tokens where a latent "
                    + "fires, as KL divergence (bits) from the routing of all tokens. Mass far from 0 means latents "
                    + "that live on a few experts; compare the MoE-specific curve with the shared ones."));
        }
        Map<String, Object> summary = summary(r, stats, claims, figures, provenance);
        // nulls kept: "supported": null (not testable) and undefined numbers are part of the shared convention
        AtomicFiles.writeString(dir.resolve(SUMMARY), Json.gson().newBuilder().serializeNulls().create()
                .toJson(summary) + "\n");
        AtomicFiles.writeString(dir.resolve(REPORT), markdown(r, stats, claims, figures));
        return summary;
    }

    private static Map<String, String> figure(String file, String caption) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("file", file);
        m.put("caption", caption);
        return m;
    }

    /** A JSON number, or null for NaN / infinity. */
    static Double num(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static Map<String, Object> summary(ModelDiff.Result r, Map<LatentClass, ClassStats> stats,
                                               List<Claims.Claim> claims, List<Map<String, String>> figures,
                                               Provenance provenance) {
        CrosscoderRun run = r.run();
        ModelDiff.Reconstruction rec = r.reconstruction();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("provenance", provenance);
        s.put("run", run.dir().toAbsolutePath().toString());
        s.put("stores", r.options().stores().stream().map(p -> p.toAbsolutePath().toString()).toList());
        s.put("hooks", r.options().hooks());
        s.put("models", r.sourceModels());
        Map<String, Object> moe = new LinkedHashMap<>();
        moe.put("source", r.moeSource());
        moe.put("model", r.sourceModels().get(r.moeSource()));
        moe.put("chosen_as", r.moeSourceReason());
        s.put("moe", moe);
        s.put("split", r.split().name().toLowerCase());
        s.put("tokens", r.activity().tokens());
        s.put("latents", run.weights().latents());
        s.put("designated_shared", run.shared());
        s.put("k", run.k());
        s.put("encoding", r.thresholdUsed() ? "inference threshold" : "batch top-k (the run estimated no threshold)");
        s.put("threshold", num(run.weights().threshold()));
        s.put("selection_weighting", run.selection().name());
        RelativeNorms rules = r.options().rules();
        Map<String, Object> th = new LinkedHashMap<>();
        th.put("shared_low", rules.sharedLow());
        th.put("shared_high", rules.sharedHigh());
        th.put("specific", rules.specific());
        th.put("rule", "r = |d_B|/(|d_A|+|d_B|); shared if shared_low < r < shared_high; A-specific if r <= "
                + "1 - specific, B-specific if r >= specific (specific 5/6 is Delta_norm >= 0.9)");
        s.put("thresholds", th);
        Map<String, Object> counts = new LinkedHashMap<>();
        for (LatentClass c : LatentClass.values()) {
            counts.put(c.name(), stats.get(c).latents());
        }
        s.put("counts", counts);
        Map<String, Object> labels = new LinkedHashMap<>();
        for (LatentClass c : LatentClass.values()) {
            labels.put(c.name(), label(r, c));
        }
        s.put("class_labels", labels);
        long dead = 0;
        for (long f : r.activity().fires()) {
            if (f == 0) {
                dead++;
            }
        }
        s.put("dead_fraction", (double) dead / run.weights().latents());
        Map<String, Object> recon = new LinkedHashMap<>();
        recon.put("definition", "FVE = 1 - sum_d Var(x - x^) / sum_d Var(x) over the evaluated tokens, in the "
                + "crosscoder's normalised units; pooled sums over sources too");
        recon.put("fve_pooled", num(rec.fvePooledThreshold()));
        recon.put("fve_per_source", perSource(r, rec.fveThreshold()));
        recon.put("fve_pooled_batch_topk", num(rec.fvePooledBatchTopK()));
        recon.put("fve_per_source_batch_topk", perSource(r, rec.fveBatchTopK()));
        recon.put("l0", rec.l0Threshold());
        recon.put("l0_batch_topk", rec.l0BatchTopK());
        s.put("reconstruction", recon);
        Map<String, Object> classes = new LinkedHashMap<>();
        for (LatentClass c : LatentClass.values()) {
            classes.put(c.name(), classJson(stats.get(c)));
        }
        s.put("classes", classes);
        s.put("density_note", "one code per token is shared by both sources, so a latent's density is the same on "
                + "either model's copy of the token stream");
        Map<String, Object> domains = new LinkedHashMap<>();
        r.activity().domainTokens().forEach(domains::put);
        s.put("domain_tokens", domains);
        if (r.experts() != null) {
            s.put("routing", routingJson(r));
        }
        s.put("claims", claims);
        s.put("figures", figures);
        List<String> files = new ArrayList<>(List.of(SUMMARY, LATENTS, CLASSES, REPORT));
        if (r.options().contextsPerLatent() > 0) {
            files.add("contexts.csv");
            files.add("contexts.json");
        }
        figures.forEach(f -> files.add(f.get("file")));
        s.put("files", files);
        return s;
    }

    private static Map<String, Object> perSource(ModelDiff.Result r, double[] v) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < v.length; i++) {
            m.put(i + ":" + r.sourceModels().get(i), num(v[i]));
        }
        return m;
    }

    private static Map<String, Object> classJson(ClassStats c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("latents", c.latents());
        m.put("dead", c.dead());
        m.put("density_median", num(c.densityMedian()));
        m.put("density_q25", num(c.densityQ25()));
        m.put("density_q75", num(c.densityQ75()));
        m.put("density_iqr", num(c.densityQ75() - c.densityQ25()));
        m.put("cosine_median", num(c.cosineMedian()));
        m.put("expert_kl_median_bits", num(c.expertKlMedianBits()));
        m.put("expert_kl_latents", c.expertKlLatents());
        Density d = c.density();
        if (d != null) {
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("log10_lower_edges", d.binLowerEdges());
            h.put("bin_width", d.binWidth());
            h.put("counts", d.counts());
            h.put("median_log10", num(d.medianLog10()));
            h.put("dense_cutoff", d.denseCutoff());
            h.put("dense_fraction", d.denseFraction());
            m.put("log10_density_histogram", h);
        }
        return m;
    }

    private static Map<String, Object> routingJson(ModelDiff.Result r) {
        ExpertContext e = r.experts();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("store", r.options().stores().get(r.moeSource()).toAbsolutePath().toString());
        m.put("layer", e.layer());
        m.put("experts", e.experts());
        m.put("tokens", e.tokens());
        m.put("base_rates", e.baseRates());
        m.put("concentration", "KL divergence in bits of the expert distribution on a latent's firing tokens from "
                + "the distribution over all evaluated tokens; medians over latents firing >= "
                + ExpertContext.MIN_FIRES + " times");
        List<Map<String, Object>> moeSpecific = new ArrayList<>();
        LatentClass[] cls = r.decoders().classes();
        for (int i = 0; i < cls.length; i++) {
            if (cls[i] != r.moeSpecific()) {
                continue;
            }
            ExpertContext.Profile p = e.profile(i, TOP_EXPERTS);
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("latent", i);
            l.put("fires", r.activity().fires()[i]);
            if (p != null) {
                List<Map<String, Object>> top = new ArrayList<>();
                for (int j = 0; j < p.topExperts().length; j++) {
                    Map<String, Object> x = new LinkedHashMap<>();
                    x.put("expert", p.topExperts()[j]);
                    x.put("share", p.shares()[j]);
                    x.put("base_rate", p.baseRates()[j]);
                    top.add(x);
                }
                l.put("top_experts", top);
                l.put("kl_bits", num(p.klBits()));
            }
            moeSpecific.add(l);
        }
        m.put("moe_specific_latents", moeSpecific);
        return m;
    }

    // ------------------------------------------------------------------ CSVs

    private static String latentsCsv(ModelDiff.Result r, Map<Integer, StoreContexts.LatentContexts> contexts) {
        List<String> domains = new ArrayList<>(r.activity().domainFires().keySet());
        StringBuilder b = new StringBuilder("latent,class,label,norm_a,norm_b,r,delta_norm,cosine,fires,density,"
                + "mean_activation");
        for (String d : domains) {
            b.append(",density_").append(csvName(d));
        }
        b.append(",top_domain,top_token");
        if (r.experts() != null) {
            b.append(",top_experts,top_expert_share,top_expert_base_rate,expert_kl_bits");
        }
        b.append('\n');
        ModelDiff.Decoders dec = r.decoders();
        ModelDiff.Activity a = r.activity();
        for (int i = 0; i < dec.classes().length; i++) {
            long fires = a.fires()[i];
            b.append(i).append(',').append(dec.classes()[i].name()).append(',').append(quote(label(r, dec.classes()[i])))
                    .append(',').append(cell(dec.normA()[i])).append(',').append(cell(dec.normB()[i]))
                    .append(',').append(cell(dec.r()[i])).append(',').append(cell(dec.deltaNorm()[i]))
                    .append(',').append(cell(dec.cosine()[i])).append(',').append(fires)
                    .append(',').append(cell(a.density(i)))
                    .append(',').append(fires == 0 ? "" : cell(a.activationSum()[i] / fires));
            for (String d : domains) {
                long n = a.domainTokens().get(d);
                b.append(',').append(cell((double) a.domainFires().get(d)[i] / n));
            }
            StoreContexts.LatentContexts lc = contexts.get(i);
            b.append(',').append(quote(lc == null ? "" : topDomain(lc)))
                    .append(',').append(quote(lc == null || lc.top().isEmpty() ? "" : lc.top().get(0).token()));
            if (r.experts() != null) {
                ExpertContext.Profile p = r.experts().profile(i, TOP_EXPERTS);
                if (p == null) {
                    b.append(",,,,");
                } else {
                    StringBuilder ex = new StringBuilder();
                    for (int j = 0; j < p.topExperts().length; j++) {
                        ex.append(j == 0 ? "" : " ").append('e').append(p.topExperts()[j]).append(':')
                                .append(String.format("%.3f", p.shares()[j]));
                    }
                    b.append(',').append(quote(ex.toString())).append(',').append(cell(p.shares()[0]))
                            .append(',').append(cell(p.baseRates()[0])).append(',').append(cell(p.klBits()));
                }
            }
            b.append('\n');
        }
        return b.toString();
    }

    /** The most frequent domain among a latent's top contexts (ties: the one reached first). */
    private static String topDomain(StoreContexts.LatentContexts lc) {
        Map<String, Integer> n = new LinkedHashMap<>();
        for (StoreContexts.Context c : lc.top()) {
            n.merge(c.domain() == null ? "" : c.domain(), 1, Integer::sum);
        }
        String best = "";
        int max = 0;
        for (Map.Entry<String, Integer> e : n.entrySet()) {
            if (e.getValue() > max) {
                max = e.getValue();
                best = e.getKey();
            }
        }
        return best;
    }

    private static String classesCsv(ModelDiff.Result r, Map<LatentClass, ClassStats> stats) {
        StringBuilder b = new StringBuilder("class,label,latents,fraction,dead,density_median,density_q25,density_q75,"
                + "log10_density_median,cosine_median,expert_kl_median_bits,expert_kl_latents\n");
        int total = r.decoders().classes().length;
        for (LatentClass c : LatentClass.values()) {
            ClassStats s = stats.get(c);
            b.append(c.name()).append(',').append(quote(label(r, c))).append(',').append(s.latents()).append(',')
                    .append(cell((double) s.latents() / total)).append(',').append(s.dead()).append(',')
                    .append(cell(s.densityMedian())).append(',').append(cell(s.densityQ25())).append(',')
                    .append(cell(s.densityQ75())).append(',')
                    .append(cell(s.density() == null ? Double.NaN : s.density().medianLog10())).append(',')
                    .append(cell(s.cosineMedian())).append(',').append(cell(s.expertKlMedianBits())).append(',')
                    .append(s.expertKlLatents()).append('\n');
        }
        return b.toString();
    }

    private static String cell(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "";
    }

    private static String csvName(String domain) {
        return domain.isEmpty() ? "none" : domain.replaceAll("[^A-Za-z0-9_.-]", "_");
    }

    /** RFC 4180 quoting: always quoted, inner quotes doubled. */
    private static String quote(String s) {
        return '"' + (s == null ? "" : s.replace("\"", "\"\"")) + '"';
    }

    // ------------------------------------------------------------------ Markdown

    private static String markdown(ModelDiff.Result r, Map<LatentClass, ClassStats> stats, List<Claims.Claim> claims,
                                   List<Map<String, String>> figures) {
        CrosscoderRun run = r.run();
        ModelDiff.Reconstruction rec = r.reconstruction();
        StringBuilder m = new StringBuilder();
        m.append("# Crosscoder diff: ").append(r.sourceModels().get(r.moeSource())).append(" (MoE) vs ")
                .append(r.sourceModels().get(1 - r.moeSource())).append(" (dense)\n\n");
        m.append(String.format("Crosscoder `%s`: F = %d latents, %d designated shared, k = %d, selection %s. "
                        + "Evaluated on %d tokens (%s documents) of %s, encoded with the %s. The MoE is %s (%s).%n%n",
                run.dir().getFileName(), run.weights().latents(), run.shared(), run.k(), run.selection(),
                r.activity().tokens(), r.split() == dev.moescope.store.stream.Split.VALIDATION ? "held-out" : "all",
                String.join(" + ", r.options().stores().stream().map(p -> "`" + p.getFileName() + "`").toList()),
                r.thresholdUsed() ? String.format("inference threshold θ = %.4g", run.weights().threshold())
                        : "batch top-k (the run estimated no threshold)",
                r.sourceModels().get(r.moeSource()), r.moeSourceReason()));
        m.append("## The paper's claims, checked on this run\n\n");
        m.append("| claim | expected | measured | supported |\n|---|---|---|---|\n");
        for (Claims.Claim c : claims) {
            m.append("| ").append(c.claim()).append(" | ").append(c.expected()).append(" | ").append(c.measured())
                    .append(" | ").append(c.supported() == null ? "not testable" : c.supported() ? "yes" : "no")
                    .append(" |\n");
        }
        m.append("\n## Latent classes\n\n");
        m.append("| class | latents | dead | median density | IQR | median decoder cosine |");
        if (r.experts() != null) {
            m.append(" median expert KL (bits) |");
        }
        m.append("\n|---|---|---|---|---|---|").append(r.experts() != null ? "---|" : "").append('\n');
        for (LatentClass c : LatentClass.values()) {
            ClassStats s = stats.get(c);
            m.append("| ").append(label(r, c)).append(" | ").append(s.latents()).append(" | ").append(s.dead())
                    .append(" | ").append(Claims.fmt(s.densityMedian())).append(" | ")
                    .append(Claims.fmt(s.densityQ25())).append(" – ").append(Claims.fmt(s.densityQ75()))
                    .append(" | ").append(Claims.fmt(s.cosineMedian())).append(" |");
            if (r.experts() != null) {
                m.append(' ').append(Claims.fmt(s.expertKlMedianBits())).append(" (").append(s.expertKlLatents())
                        .append(") |");
            }
            m.append('\n');
        }
        long dead = 0;
        for (long f : r.activity().fires()) {
            dead += f == 0 ? 1 : 0;
        }
        m.append(String.format("%nDead (never fired on these tokens): %d of %d (%.1f%%). Classes by relative decoder "
                        + "norm r: shared %.2f < r < %.2f, specific r <= %.3f or r >= %.3f (Δ_norm >= 0.9 at the "
                        + "default).%n%n", dead, run.weights().latents(), 100.0 * dead / run.weights().latents(),
                r.options().rules().sharedLow(), r.options().rules().sharedHigh(), 1 - r.options().rules().specific(),
                r.options().rules().specific()));
        m.append("## Reconstruction\n\n");
        m.append(String.format("FVE pooled %.4f under the threshold (L0 %.1f), %.4f under batch top-k (L0 %.1f).",
                rec.fvePooledThreshold(), rec.l0Threshold(), rec.fvePooledBatchTopK(), rec.l0BatchTopK()));
        for (int s = 0; s < rec.fveThreshold().length; s++) {
            m.append(String.format(" %s: %.4f.", r.sourceModels().get(s), rec.fveThreshold()[s]));
        }
        m.append(" FVE = 1 − Σ_d Var(x − x̂) / Σ_d Var(x), in the crosscoder's normalised units.\n\n");
        if (r.experts() != null) {
            m.append(String.format("## Routing context (MoE layer %d)%n%n", r.experts().layer()));
            m.append("Base rates of the experts over all evaluated tokens: ");
            double[] q = r.experts().baseRates();
            for (int e = 0; e < q.length; e++) {
                m.append(e == 0 ? "" : ", ").append('e').append(e).append(' ').append(String.format("%.3f", q[e]));
            }
            m.append(".\n\n");
            List<Integer> moeLatents = new ArrayList<>();
            for (int i = 0; i < r.decoders().classes().length; i++) {
                if (r.decoders().classes()[i] == r.moeSpecific() && r.activity().fires()[i] > 0) {
                    moeLatents.add(i);
                }
            }
            moeLatents.sort((x, y) -> Long.compare(r.activity().fires()[y], r.activity().fires()[x]));
            if (moeLatents.isEmpty()) {
                m.append("No MoE-specific latent fired on these tokens.\n\n");
            } else {
                m.append("Most active MoE-specific latents (share of their tokens routed to each expert, base rate in "
                        + "parentheses):\n\n| latent | fires | top experts | KL (bits) |\n|---|---|---|---|\n");
                for (int i : moeLatents.subList(0, Math.min(10, moeLatents.size()))) {
                    ExpertContext.Profile p = r.experts().profile(i, TOP_EXPERTS);
                    StringBuilder ex = new StringBuilder();
                    for (int j = 0; j < p.topExperts().length; j++) {
                        ex.append(j == 0 ? "" : ", ").append(String.format("e%d %.2f (%.2f)", p.topExperts()[j],
                                p.shares()[j], p.baseRates()[j]));
                    }
                    m.append("| ").append(i).append(" | ").append(p.fires()).append(" | ").append(ex).append(" | ")
                            .append(String.format("%.3f", p.klBits())).append(" |\n");
                }
                m.append('\n');
            }
        }
        m.append("## Figures\n\n");
        for (Map<String, String> f : figures) {
            m.append("![").append(f.get("file")).append("](").append(f.get("file")).append(")\n\n")
                    .append(f.get("caption")).append("\n\n");
        }
        m.append("Per-latent numbers: `latents.csv`; per class: `classes.csv`");
        m.append(r.options().contextsPerLatent() > 0 ? "; top-activating contexts: `contexts.csv`.\n" : ".\n");
        return m.toString();
    }
}
