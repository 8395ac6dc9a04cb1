package dev.moescope.sae.eval;

import ai.djl.engine.Engine;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.sae.data.ActivationSource;
import dev.moescope.sae.data.StoreSource;
import dev.moescope.sae.data.SyntheticSource;
import dev.moescope.sae.io.SaeLensExport;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code sae eval}: metrics, density, (synthetic) recovery; writes {@code summary.json} and PNG plots. */
public final class SaeEvaluation {

    private SaeEvaluation() {
    }

    /** What {@code eval/summary.json} holds. */
    public record Summary(Provenance provenance, Map<String, String> source, long tokens, int k, double threshold,
                          Metrics withThreshold, Metrics withBatchTopK, Density density, Double recoveredFraction,
                          Double recoveryCosineCutoff, Double meanBestCosine, Integer latentsWithContexts,
                          CeRecovery.Result ceLoss) {
    }

    /** Tokens shown around an active token in {@code contexts.csv}: this many before and after, same document. */
    public static final int CONTEXT_BEFORE = 10;
    public static final int CONTEXT_AFTER = 4;

    /**
     * Evaluates the SAE in {@code runDir} on {@code source}'s validation rows. On a {@link StoreSource}, with
     * {@code contextsPerLatent > 0}, also writes the top-activating contexts of every latent (threshold encoding)
     * as {@code contexts.csv} and {@code contexts.json}.
     */
    public static Summary run(Engine engine, Path runDir, ActivationSource source, Path outDir, int batchRows,
                              double denseCutoff, int contextsPerLatent, int threads, Provenance.Builder provenance,
                              PrintWriter out) {
        return run(engine, runDir, source, outDir, batchRows, denseCutoff, contextsPerLatent, threads, provenance,
                null, out);
    }

    /** As above, recording {@code ce} (CE loss recovered, computed by {@link CeRecovery}; null if not computed). */
    public static Summary run(Engine engine, Path runDir, ActivationSource source, Path outDir, int batchRows,
                              double denseCutoff, int contextsPerLatent, int threads, Provenance.Builder provenance,
                              CeRecovery.Result ce, PrintWriter out) {
        SaeLensExport.RawSae sae = SaeLensExport.read(runDir);
        if (source.validationRows() == 0) {
            throw MoescopeException.badInput(source.name() + ": no held-out rows to evaluate on (too few documents "
                    + "for the validation split)");
        }
        int k = sae.cfg().getAsJsonObject("moescope").get("k").getAsInt();
        StoreSource store = source instanceof StoreSource s && contextsPerLatent > 0 ? s : null;
        TopActivations top = store == null ? null : new TopActivations(sae.latents(), contextsPerLatent);
        SaeEvaluator.Result r;
        try (SaeEvaluator ev = new SaeEvaluator(engine, sae, k, threads)) {
            r = ev.evaluate(source, batchRows, top == null ? null : (b, codes) -> top.add(codes, b.rowIds()));
        }
        Density density = Density.of(r.firingCounts(), r.tokens(), denseCutoff);
        Plots.densityHistogram(density, outDir.resolve("density.png"));
        Recovery.Result rec = null;
        double cutoff = 0.9;
        if (source instanceof SyntheticSource s) {
            rec = Recovery.of(s.groundTruth(), sae.wDec(), s.spec().features(), sae.latents(), sae.width(), cutoff);
            Plots.recoveryCurve(rec, cutoff, outDir.resolve("recovery.png"));
        }
        Provenance prov = provenance.build().finishedNow();
        Integer withContexts = null;
        if (top != null) {
            var contexts = StoreContexts.render(top, store.store(), CONTEXT_BEFORE, CONTEXT_AFTER);
            StoreContexts.write(outDir, contexts, store.spec().store(), contextsPerLatent, CONTEXT_BEFORE,
                    CONTEXT_AFTER, prov);
            withContexts = contexts.size();
        }
        Summary summary = new Summary(prov, new LinkedHashMap<>(source.describe()),
                r.tokens(), k, sae.theta(), r.threshold(), r.batchTopK(), density,
                rec == null ? null : rec.fractionRecovered(), rec == null ? null : cutoff,
                rec == null ? null : rec.meanMaxCosine(), withContexts, ce);
        Json.write(outDir.resolve("summary.json"), summary);
        out.printf("evaluated %s on %,d held-out tokens of %s%n", runDir, r.tokens(), source.name());
        print(out, "threshold θ=" + String.format("%.4g", sae.theta()), r.threshold());
        print(out, "batch top-k k=" + k, r.batchTopK());
        out.printf("latents: dead %.2f%% (never fire), dense %.2f%% (density > %.2f), median log10 density %.2f%n",
                100 * density.deadFraction(), 100 * density.denseFraction(), denseCutoff, density.medianLog10());
        if (rec != null) {
            out.printf("ground truth: %.1f%% of %d true directions recovered at cos >= %.2f (mean best cos %.3f)%n",
                    100 * rec.fractionRecovered(), rec.maxCosines().length, cutoff, rec.meanMaxCosine());
        }
        if (withContexts != null) {
            out.printf("top-activating contexts: %d latents x up to %d, from the store's tokens%n", withContexts,
                    contextsPerLatent);
        }
        if (ce != null) {
            out.printf("CE loss on %,d held-out tokens: clean %.4f, SAE %.4f, zero-ablated %.4f, mean-ablated %.4f; "
                            + "recovered %.4f (from mean %.4f); hook reproduced to max abs diff %.2g%n", ce.tokens(),
                    ce.ceClean(), ce.ceSae(), ce.ceZeroAblation(), ce.ceMeanAblation(), ce.recovered(),
                    ce.recoveredFromMean(), ce.hookMaxAbsDiff());
        }
        out.printf("wrote %s, density.png%s%s%n", outDir.resolve("summary.json"), rec == null ? "" : ", recovery.png",
                withContexts == null ? "" : ", contexts.csv, contexts.json");
        out.flush();
        return summary;
    }

    private static void print(PrintWriter out, String label, Metrics m) {
        out.printf("  %-22s FVE pooled %.4f (centred %.4f, per-token %.4f)  MSE %.4g  L0 %.2f  cos %.4f  "
                        + "|x̂|/|x| %.4f%n", label, m.fvePooled(), m.fvePooledCentred(), m.fvePerToken(), m.mse(),
                m.l0(), m.cosine(), m.normRatio());
    }
}
