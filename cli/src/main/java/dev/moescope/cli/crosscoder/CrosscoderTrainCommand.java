package dev.moescope.cli.crosscoder;

import ai.djl.engine.Engine;
import dev.moescope.cli.CommonOptions;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.crosscoder.data.PairedSource;
import dev.moescope.crosscoder.data.PairedStoreSource;
import dev.moescope.crosscoder.data.SyntheticPairSource;
import dev.moescope.crosscoder.diff.LatentClass;
import dev.moescope.crosscoder.diff.RelativeNorms;
import dev.moescope.crosscoder.train.Crosscoder;
import dev.moescope.crosscoder.train.CrosscoderConfig;
import dev.moescope.crosscoder.train.CrosscoderTraining;
import dev.moescope.crosscoder.train.SelectionWeighting;
import dev.moescope.sae.dictionary.Parallel;
import dev.moescope.store.manifest.Manifest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code moescope crosscoder train}: trains a BatchTopK crosscoder on paired stores recorded on the same tokens. */
@Command(name = "train",
        mixinStandardHelpOptions = true,
        description = {"Train a BatchTopK crosscoder jointly on two or more activation stores recorded on the same "
                + "tokens (an MoE and a dense model, say): per-source encoders and decoders, one shared code, "
                + "decoder-norm-weighted batch top-k, AuxK, EMA inference threshold, per-source input scaling, "
                + "and --shared designated shared latents whose decoder is tied across sources.",
                "Stores are paired row by row; misaligned stores are refused with the first mismatch.",
                "Writes RUN/crosscoder.safetensors, RUN/cfg.json and RUN/summary.json (with provenance)."},
        footer = {"", "Example:",
                "  moescope demo --out /tmp/d",
                "  moescope crosscoder train --store /tmp/d/stores/moe --store /tmp/d/stores/dense \\",
                "      --hook blocks.2.resid_post --hook blocks.2.resid_post --latents 256 --k 8 --shared 16 \\",
                "      --batch 256 --steps 500 --out runs/cc"})
public final class CrosscoderTrainCommand implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--store", paramLabel = "DIR", description = "An activation store (repeat: one per source, MoE first).")
    List<Path> stores = new ArrayList<>();

    @Option(names = "--hook", paramLabel = "HOOK", description = "The hook to read from each --store, in the same order.")
    List<String> hooks = new ArrayList<>();

    @Option(names = "--synthetic", description = "Train on two synthetic sources with known shared and specific dictionaries instead of stores.")
    boolean synthetic;

    @Option(names = "--latents", required = true, paramLabel = "F", description = "Dictionary size.")
    int latents;

    @Option(names = "--k", required = true, paramLabel = "K", description = "Mean active latents per token.")
    int k;

    @Option(names = "--shared", paramLabel = "N", defaultValue = "0", description = "Designated shared latents (tied decoders) (default: ${DEFAULT-VALUE}).")
    int shared;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "1024", description = "Tokens per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "1000", description = "Total steps (default: ${DEFAULT-VALUE}).")
    long steps;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "1e-3", description = "Adam learning rate (default: ${DEFAULT-VALUE}, the paper script's).")
    double lr;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "-1", description = "Linear warm-up steps (default: min(1000, steps/10)).")
    long warmup;

    @Option(names = "--auxk-alpha", paramLabel = "A", defaultValue = "0.03125", description = "AuxK loss weight, 0 off (default: 1/32).")
    double auxkAlpha;

    @Option(names = "--k-aux", paramLabel = "N", defaultValue = "0", description = "AuxK latents per token (default: d/2 of the narrowest source).")
    int kAux;

    @Option(names = "--sparsity-penalty", paramLabel = "L", defaultValue = "0",
            description = "Decoder-norm-weighted L1 weight on top of BatchTopK (the paper code uses 1/32; default: off, it slows CPU training).")
    double sparsityPenalty;

    @Option(names = "--shared-sparsity-penalty", paramLabel = "L", defaultValue = "-1",
            description = "The designated shared latents' reduced L1 weight (default: 0.15 x --sparsity-penalty).")
    double sharedSparsityPenalty;

    @Option(names = "--dead-tokens", paramLabel = "N", defaultValue = "10000000", description = "Tokens without firing after which a latent is dead (default: ${DEFAULT-VALUE}).")
    long deadTokens;

    @Option(names = "--selection", paramLabel = "MODE", defaultValue = "CROSSCODER",
            description = "Selection weighting by decoder norms: CROSSCODER (sum of norms), SAE (norm of the concatenation), MIXED (0.7 SAE + 0.3 CROSSCODER), NONE (default: ${DEFAULT-VALUE}).")
    SelectionWeighting selection;

    @Option(names = "--no-normalize", description = "Do not scale each source to E|x|^2 = d.")
    boolean noNormalize;

    @Option(names = "--out", required = true, paramLabel = "RUN", description = "Run directory.")
    Path out;

    @Override
    public Integer call() {
        if (shared > latents) { // bad input (exit 3), checked before the config's usage checks
            throw dev.moescope.core.error.MoescopeException.badInput("--shared " + shared + " is larger than --latents "
                    + latents + ": at most F latents can be designated shared");
        }
        CrosscoderConfig d = CrosscoderConfig.defaults(latents, k, shared, batch, steps, common.seed);
        CrosscoderConfig config = new CrosscoderConfig(latents, k, shared, batch, steps, lr,
                warmup >= 0 ? warmup : d.warmupSteps(), auxkAlpha, kAux, sparsityPenalty,
                sharedSparsityPenalty >= 0 ? sharedSparsityPenalty : 0.15 * sparsityPenalty, deadTokens, d.thresholdBeta(),
                d.thresholdStart(), noNormalize ? 0 : d.normBatches(), selection, common.seed);
        if (synthetic != stores.isEmpty()) {
            throw dev.moescope.core.error.MoescopeException.usage(synthetic
                    ? "--synthetic takes no --store" : "give two or more --store (and one --hook each), or --synthetic");
        }
        Provenance.Builder prov = Provenance.start("crosscoder train").parameter("seed", common.seed)
                .parameter("threads", common.threads).parameter("config", config);
        Engine engine = DjlRuntime.pytorch(common.threads);
        try (PairedSource src = synthetic ? new SyntheticPairSource(32, 16, 16, 16, 0.05, common.seed)
                : new PairedStoreSource(stores, hooks, common.seed);
             Parallel par = new Parallel(common.threads)) {
            prov.parameters(src.describe());
            for (Path s : stores) { // after opening: a missing store gets the store's own error first
                prov.input(s.resolve(Manifest.FILE_NAME));
            }
            CrosscoderTraining.Result r = CrosscoderTraining.train(engine, src, config, par);
            try (Crosscoder cc = r.model()) {
                Provenance p = prov.build().finishedNow();
                Files.createDirectories(out);
                Map<String, String> meta = new LinkedHashMap<>();
                meta.put("format", "moescope-crosscoder");
                meta.put("provenance", Json.gson().toJson(p));
                CrosscoderTraining.save(out.resolve("crosscoder.safetensors"), r, meta);
                Map<String, Object> cfg = new LinkedHashMap<>();
                cfg.put("config", config);
                cfg.put("sources", src.names());
                cfg.put("widths", cc.widths());
                cfg.put("input_scales", r.inputScales());
                cfg.put("threshold", cc.threshold());
                Json.write(out.resolve("cfg.json"), cfg);
                Map<LatentClass, Integer> counts = classCounts(cc);
                Map<String, Object> summary = new LinkedHashMap<>();
                summary.put("provenance", p);
                summary.put("sources", src.names());
                summary.put("steps", config.steps());
                summary.put("seconds", r.seconds());
                summary.put("final_loss", r.last().loss());
                summary.put("final_reconstruction_per_source", r.last().reconstruction());
                summary.put("final_auxk", r.last().auxk());
                summary.put("l0", r.last().l0());
                summary.put("dead_fraction", cc.deadFraction());
                summary.put("threshold", cc.threshold());
                summary.put("latent_classes_first_two_sources", counts);
                Json.write(out.resolve("summary.json"), summary);
                var o = spec.commandLine().getOut();
                o.printf("trained %d steps in %.1f s: loss %.4f, reconstruction per source %s, dead %.1f%%%n",
                        config.steps(), r.seconds(), r.last().loss(), java.util.Arrays.toString(
                                java.util.Arrays.stream(r.last().reconstruction())
                                        .mapToObj(v -> String.format("%.4f", v)).toArray()),
                        100 * cc.deadFraction());
                o.printf("latents by relative decoder norm (sources 0/1): %s%n", counts);
                o.printf("wrote %s, cfg.json, summary.json%n", out.resolve("crosscoder.safetensors"));
            }
        } catch (java.io.IOException e) {
            throw dev.moescope.core.error.MoescopeException.failure("cannot write " + out + ": " + e.getMessage(), e);
        }
        return 0;
    }

    private static Map<LatentClass, Integer> classCounts(Crosscoder cc) {
        int[] w = cc.widths();
        double[] a = RelativeNorms.rowNorms(cc.decoderRows(0), cc.latents(), w[0]);
        double[] b = RelativeNorms.rowNorms(cc.decoderRows(1), cc.latents(), w[1]);
        RelativeNorms rules = RelativeNorms.defaults();
        Map<LatentClass, Integer> counts = new EnumMap<>(LatentClass.class);
        for (LatentClass c : LatentClass.values()) {
            counts.put(c, 0);
        }
        for (int i = 0; i < cc.latents(); i++) {
            LatentClass c = rules.classify(RelativeNorms.relativeNorm(a[i], b[i]), i < cc.config().shared());
            counts.merge(c, 1, Integer::sum);
        }
        return counts;
    }
}
