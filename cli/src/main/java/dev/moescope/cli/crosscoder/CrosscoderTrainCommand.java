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
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.PreviousRun;
import dev.moescope.cli.sae.ResumedOptions;
import dev.moescope.core.progress.Progress;
import dev.moescope.crosscoder.train.CrosscoderCheckpoint;
import dev.moescope.crosscoder.train.CrosscoderConfig;
import dev.moescope.crosscoder.train.HeldOutEvaluation;
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
        description = {
            "Train a BatchTopK crosscoder jointly on two or more stores recorded on the same tokens.",
            "The sources are, say, an MoE and a dense model. The crosscoder has per-source encoders "
                    + "and decoders, one shared code, decoder-norm-weighted batch top-k, AuxK, an EMA inference"
                    + " threshold, per-source input scaling, and --shared designated shared latents whose "
                    + "decoder is tied across sources.",
            "Stores are paired row by row; misaligned stores are refused with the first mismatch.",
            "Writes RUN/crosscoder.safetensors, RUN/cfg.json, RUN/summary.json (with provenance, and "
                    + "per-source and pooled FVE on held-out tokens) and RUN/checkpoint.safetensors (continue "
                    + "with --resume)."},
        footer = {"", "Example:",
                "  moescope demo --out /tmp/d",
                "  moescope crosscoder train \\",
                "      --store /tmp/d/stores/moe --store /tmp/d/stores/dense \\",
                "      --hook blocks.2.resid_post --hook blocks.2.resid_post \\",
                "      --latents 256 --k 8 --shared 16 \\",
                "      --batch 256 --steps 500 --out runs/cc",
                "  # continue the same run to step 1000 (the run's saved options are kept):",
                "  moescope crosscoder train \\",
                "      --store /tmp/d/stores/moe --store /tmp/d/stores/dense \\",
                "      --hook blocks.2.resid_post --hook blocks.2.resid_post \\",
                "      --steps 1000 --resume --out runs/cc"})
public final class CrosscoderTrainCommand implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--store", paramLabel = "DIR",
            description = "An activation store (repeat: one per source, MoE first).")
    List<Path> stores = new ArrayList<>();

    @Option(names = "--hook", paramLabel = "HOOK",
            description = "The hook to read from each --store, in the same order.")
    List<String> hooks = new ArrayList<>();

    @Option(names = "--synthetic", description = "Train on two synthetic sources with known shared and specific dictionaries instead of stores.")
    boolean synthetic;

    @Option(names = "--latents", paramLabel = "F",
            description = "Dictionary size (required for a new run; --resume reads it from the run).")
    Integer latentsOption;

    @Option(names = "--k", paramLabel = "K",
            description = "Mean active latents per token (required for a new run; --resume reads it from the run).")
    Integer kOption;

    @Option(names = "--shared", paramLabel = "N",
            description = "Designated shared latents (tied decoders) (default: 0; --resume reads it from the run).")
    Integer sharedOption;

    @Option(names = "--batch", paramLabel = "B",
            description = "Tokens per step (default: " + DEFAULT_BATCH + "; --resume reads it from the run).")
    Integer batchOption;

    private static final int DEFAULT_BATCH = 1024;

    // the effective shape options: given, defaulted, or on --resume the run's
    private int latents;
    private int k;
    private int shared;
    private int batch;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "1000",
            description = "Total steps (default: ${DEFAULT-VALUE}).")
    long steps;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "1e-3",
            description = "Adam learning rate (default: ${DEFAULT-VALUE}, the paper script's).")
    double lr;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "-1",
            description = "Linear warm-up steps (default: min(1000, steps/10)).")
    long warmup;

    @Option(names = "--auxk-alpha", paramLabel = "A", defaultValue = "0.03125",
            description = "AuxK loss weight, 0 off (default: 1/32).")
    double auxkAlpha;

    @Option(names = "--k-aux", paramLabel = "N", defaultValue = "0",
            description = "AuxK latents per token (default: d/2 of the narrowest source).")
    int kAux;

    @Option(names = "--sparsity-penalty", paramLabel = "L", defaultValue = "0.03125",
            description = "Decoder-norm-weighted L1 weight on top of BatchTopK, 0 off (default: 1/32, the paper code's).")
    double sparsityPenalty;

    @Option(names = "--shared-sparsity-penalty", paramLabel = "L", defaultValue = "-1",
            description = "The designated shared latents' reduced L1 weight (default: 0.15 x --sparsity-penalty).")
    double sharedSparsityPenalty;

    @Option(names = "--dead-tokens", paramLabel = "N", defaultValue = "10000000",
            description = "Tokens without firing after which a latent is dead (default: ${DEFAULT-VALUE}).")
    long deadTokens;

    @Option(names = "--selection", paramLabel = "MODE", defaultValue = "CROSSCODER",
            description = "Selection weighting by decoder norms: CROSSCODER (sum of norms), SAE (norm of the concatenation), MIXED (0.7 SAE + 0.3 CROSSCODER), NONE (default: ${DEFAULT-VALUE}).")
    SelectionWeighting selection;

    @Option(names = "--no-normalize", description = "Do not scale each source to E|x|^2 = d.")
    boolean noNormalize;

    @Option(names = "--threshold-start", paramLabel = "N", defaultValue = "-1",
            description = "First step of the inference-threshold EMA (default: min(1000, steps/2)).")
    long thresholdStart;

    @Option(names = "--grad-clip", paramLabel = "G", defaultValue = "1.0",
            description = "Global gradient-norm clip, 0 off (default: ${DEFAULT-VALUE}, the paper code's).")
    double gradClip;

    @Option(names = "--checkpoint-every", paramLabel = "N", defaultValue = "0",
            description = "Also write RUN/checkpoint.safetensors every N steps (default: only at the end).")
    long checkpointEvery;

    @Option(names = "--resume", description = "Continue the run in --out from its checkpoint.safetensors up to --steps, with the options it was started with (--latents/--k/--shared/--batch read from the run; the same sources required).")
    boolean resume;

    @Option(names = "--val-tokens", paramLabel = "N", defaultValue = "1000000",
            description = "Held-out tokens for the FVE evaluation, 0 none (default: ${DEFAULT-VALUE}; a synthetic source uses at most 16 batches).")
    long valTokens;

    @Option(names = "--out", required = true, paramLabel = "RUN", description = "Run directory.")
    Path out;

    @Override
    public Integer call() {
        Path checkpoint = out.resolve(CrosscoderCheckpoint.FILE);
        if (resume) { // the run's shape options, from its checkpoint; a given one must agree
            if (!Files.isRegularFile(checkpoint)) {
                throw MoescopeException.usage("--resume: no " + CrosscoderCheckpoint.FILE + " in " + out);
            }
            CrosscoderConfig saved = CrosscoderCheckpoint.readState(checkpoint).config();
            latents = ResumedOptions.fromRun(checkpoint, "--latents", latentsOption, saved.latents());
            k = ResumedOptions.fromRun(checkpoint, "--k", kOption, saved.k());
            shared = ResumedOptions.fromRun(checkpoint, "--shared", sharedOption, saved.shared());
            batch = ResumedOptions.fromRun(checkpoint, "--batch", batchOption, saved.batchSize());
        } else {
            ResumedOptions.requireForNewRun("--latents", latentsOption, "--k", kOption);
            PreviousRun.refuse(out, "training run", true, CrosscoderCheckpoint.FILE, "crosscoder.safetensors",
                    "summary.json");
            latents = latentsOption;
            k = kOption;
            shared = sharedOption == null ? 0 : sharedOption;
            batch = batchOption == null ? DEFAULT_BATCH : batchOption;
        }
        if (shared > latents) { // bad input (exit 3), checked before the config's usage checks
            throw dev.moescope.core.error.MoescopeException.badInput("--shared " + shared + " is larger than --latents "
                    + latents + ": at most F latents can be designated shared");
        }
        CrosscoderConfig d = CrosscoderConfig.defaults(latents, k, shared, batch, steps, common.seed);
        CrosscoderConfig config = new CrosscoderConfig(latents, k, shared, batch, steps, lr,
                warmup >= 0 ? warmup : d.warmupSteps(), auxkAlpha, kAux, sparsityPenalty,
                sharedSparsityPenalty >= 0 ? sharedSparsityPenalty : 0.15 * sparsityPenalty, deadTokens, d.thresholdBeta(),
                thresholdStart >= 0 ? thresholdStart : d.thresholdStart(), noNormalize ? 0 : d.normBatches(), selection, common.seed, gradClip,
                CrosscoderConfig.Kernel.SPARSE);
        if (synthetic != stores.isEmpty()) {
            throw MoescopeException.usage(synthetic
                    ? "--synthetic takes no --store" : "give two or more --store (and one --hook each), or --synthetic");
        }
        if (checkpointEvery < 0 || valTokens < 0) {
            throw MoescopeException.usage("--checkpoint-every and --val-tokens must be non-negative");
        }
        Provenance.Builder prov = Provenance.start("crosscoder train").parameter("seed", common.seed)
                .parameter("threads", common.threads).parameter("resume", resume);
        Engine engine = DjlRuntime.pytorch(common.threads);
        try (PairedSource src = synthetic ? new SyntheticPairSource(32, 16, 16, 16, 0.05, common.seed)
                : new PairedStoreSource(stores, hooks, common.seed);
             Parallel par = new Parallel(common.threads)) {
            prov.parameters(src.describe());
            for (Path s : stores) { // after opening: a missing store gets the store's own error first
                prov.input(s.resolve(Manifest.FILE_NAME));
            }
            if (resume) {
                prov.input(checkpoint);
            }
            long t0 = System.nanoTime();
            CrosscoderTraining run = resume ? CrosscoderTraining.resume(engine, src, config, checkpoint, par)
                    : CrosscoderTraining.start(engine, src, config, par);
            long firstStep = run.stepsDone();
            config = run.config(); // on resume: the checkpoint's options with this --steps
            prov.parameter("config", config);
            try (Crosscoder cc = run.model()) {
                Crosscoder.StepStats last = null;
                try (Progress p = Progress.start("crosscoder train", config.steps() - firstStep, "step")) {
                    while (run.stepsDone() < config.steps()) {
                        last = run.step();
                        p.stepBy(1);
                        if (run.stepsDone() % 50 == 1) {
                            p.message(String.format("loss %.4f l0 %.1f dead %d", last.loss(), last.l0(),
                                    last.dead()));
                        }
                        if (checkpointEvery > 0 && run.stepsDone() % checkpointEvery == 0
                                && run.stepsDone() < config.steps()) {
                            Files.createDirectories(out);
                            run.checkpoint(checkpoint);
                        }
                    }
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                long e0 = System.nanoTime();
                long heldOutTokens = synthetic ? Math.min(valTokens, 16L * batch) : valTokens;
                HeldOutEvaluation.Report heldOut = heldOutTokens > 0 ? run.evaluate(heldOutTokens) : null;
                double evalSeconds = (System.nanoTime() - e0) / 1e9;
                CrosscoderTraining.Result r = new CrosscoderTraining.Result(cc, run.inputScales(), last, seconds);
                Provenance prv = prov.build().finishedNow();
                Files.createDirectories(out);
                run.checkpoint(checkpoint);
                Map<String, String> meta = new LinkedHashMap<>();
                meta.put("format", "moescope-crosscoder");
                meta.put("provenance", Json.gson().toJson(prv));
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
                summary.put("provenance", prv);
                summary.put("sources", src.names());
                summary.put("steps", config.steps());
                summary.put("seconds", r.seconds());
                summary.put("final_loss", last.loss());
                summary.put("final_reconstruction_per_source", last.reconstruction());
                summary.put("final_auxk", last.auxk());
                summary.put("l0", last.l0());
                summary.put("dead_fraction", cc.deadFraction());
                summary.put("threshold", cc.threshold());
                summary.put("latent_classes_first_two_sources", counts);
                summary.put("resumed_from_step", resume ? firstStep : null);
                summary.put("final_sparsity_term", last.sparsity());
                summary.put("final_grad_norm", last.gradNorm());
                summary.put("steps_per_second", (config.steps() - firstStep) / seconds);
                summary.put("heldout", heldOut == null ? null : heldOutJson(heldOut, evalSeconds));
                Json.write(out.resolve("summary.json"), summary);
                var o = spec.commandLine().getOut();
                o.printf("trained steps %d..%d in %.1f s: loss %.4f, reconstruction per source %s, dead %.1f%%%n",
                        firstStep + 1, config.steps(), seconds, last.loss(), fmt(last.reconstruction()),
                        100 * cc.deadFraction());
                if (heldOut != null && heldOut.tokens() > 0) {
                    HeldOutEvaluation.Fve f = heldOut.threshold() != null ? heldOut.threshold() : heldOut.topK();
                    o.printf("held-out FVE (%s, %d tokens): pooled %.4f, per source %s, L0 %.1f%n",
                            heldOut.threshold() != null ? "threshold" : "batch top-k", heldOut.tokens(), f.pooled(),
                            fmt(f.perSource()), f.l0());
                } else {
                    o.printf("held-out FVE: no held-out tokens%n");
                }
                o.printf("latents by relative decoder norm (sources 0/1): %s%n", counts);
                o.printf("wrote %s, cfg.json, summary.json, %s%n", out.resolve("crosscoder.safetensors"),
                        CrosscoderCheckpoint.FILE);
            }
        } catch (java.io.IOException e) {
            throw MoescopeException.failure("cannot write " + out + ": " + e.getMessage(), e);
        }
        return 0;
    }

    private static String fmt(double[] v) {
        return java.util.Arrays.toString(java.util.Arrays.stream(v).mapToObj(x -> String.format("%.4f", x))
                .toArray());
    }

    private static Map<String, Object> heldOutJson(HeldOutEvaluation.Report r, double seconds) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tokens", r.tokens());
        m.put("seconds", seconds);
        m.put("definition", "FVE = 1 - sum_d Var_b(x - x_hat) / sum_d Var_b(x), normalised units; pooled sums "
                + "over every source's dimensions");
        if (r.tokens() > 0) {
            m.put("fve_threshold", r.threshold());
            m.put("fve_batch_topk", r.topK());
            m.put("dead_fraction", r.deadFraction());
        }
        return m;
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
