package dev.moescope.cli.sae;

import ai.djl.engine.Engine;
import dev.moescope.cli.CommonOptions;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.sae.data.ActivationSource;
import dev.moescope.sae.train.Checkpoint;
import dev.moescope.sae.train.SaeConfig;
import dev.moescope.sae.train.SaeTrainRun;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code moescope sae train}: trains a BatchTopK SAE. */
@Command(name = "train",
        mixinStandardHelpOptions = true,
        description = {
            "Train a BatchTopK sparse autoencoder on one hook's activations (DJL's PyTorch engine).",
            "Trains with the AuxK loss, a unit-norm decoder and an EMA inference threshold.",
            "Writes RUN/sae_weights.safetensors + cfg.json (SAELens JumpReLU layout), "
                    + "RUN/checkpoint.safetensors (for --resume) and RUN/summary.json."},
        footer = {"", "Example:",
                "  moescope sae train --synthetic --latents 192 --k 3 --batch 1024 \\",
                "      --steps 1500 --lr 3e-4 --warmup 50 --threshold-start 400 \\",
                "      --out runs/sae-synth",
                "  moescope sae train --npy acts.npy --latents 8192 --k 32 --steps 20000 \\",
                "      --out runs/sae-l3",
                "  moescope sae train --store runs/store --hook blocks.3.resid_post \\",
                "      --latents 8192 --k 32 --steps 20000 --out runs/sae-l3",
                "  # continue it to step 40000 (--latents, --k, --batch are read from the run):",
                "  moescope sae train --store runs/store --hook blocks.3.resid_post \\",
                "      --steps 40000 --resume --out runs/sae-l3"})
public final class SaeTrainCommand implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Mixin
    SourceOptions source;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--latents", paramLabel = "F",
            description = "Dictionary size (required for a new run; --resume reads it from the run).")
    Integer latents;

    @Option(names = "--k", paramLabel = "K",
            description = "Mean active latents per token (required for a new run; --resume reads it from the run).")
    Integer k;

    @Option(names = "--batch", paramLabel = "B",
            description = "Tokens per step (default: " + DEFAULT_BATCH + "; --resume reads it from the run).")
    Integer batch;

    private static final int DEFAULT_BATCH = 4096;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "1000",
            description = "Total steps (default: ${DEFAULT-VALUE}).")
    long steps;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "0",
            description = "Peak learning rate (default: 2e-4/sqrt(F/2^14), dictionary_learning's rule).")
    double lr;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "1000",
            description = "Linear warm-up steps (default: ${DEFAULT-VALUE}).")
    long warmup;

    @Option(names = "--decay-start", paramLabel = "N", defaultValue = "-1",
            description = "Step where linear decay to 0 starts (default: none).")
    long decayStart;

    @Option(names = "--grad-clip", paramLabel = "X", defaultValue = "1.0",
            description = "Global gradient-norm clip, 0 off (default: ${DEFAULT-VALUE}).")
    double gradClip;

    @Option(names = "--auxk-alpha", paramLabel = "A", defaultValue = "0.03125",
            description = "AuxK loss weight, 0 off (default: 1/32).")
    double auxkAlpha;

    @Option(names = "--k-aux", paramLabel = "N", defaultValue = "0",
            description = "AuxK latents per token (default: d/2).")
    int kAux;

    @Option(names = "--dead-tokens", paramLabel = "N", defaultValue = "10000000",
            description = "Tokens without firing after which a latent is dead (default: ${DEFAULT-VALUE}).")
    long deadTokens;

    @Option(names = "--threshold-beta", paramLabel = "B", defaultValue = "0.999",
            description = "EMA factor of the inference threshold (default: ${DEFAULT-VALUE}).")
    double thresholdBeta;

    @Option(names = "--threshold-start", paramLabel = "N", defaultValue = "1000",
            description = "Step after which the threshold is tracked (default: ${DEFAULT-VALUE}).")
    long thresholdStart;

    @Option(names = "--no-normalize", description = "Do not scale inputs to E|x|^2 = d.")
    boolean noNormalize;

    @Option(names = "--bias-init", paramLabel = "MODE", defaultValue = "median",
            description = "Decoder-bias initialisation: median (geometric median of the first batch), mean, zero (default: ${DEFAULT-VALUE}).")
    SaeConfig.BiasInit biasInit;

    @Option(names = "--kernel", paramLabel = "KIND", defaultValue = "sparse",
            description = "Gradient kernel: sparse (fast) or dense (DJL autograd reference) (default: ${DEFAULT-VALUE}).")
    SaeConfig.Kernel kernel;

    @Option(names = "--checkpoint-every", paramLabel = "N", defaultValue = "1000",
            description = "Steps between checkpoints (default: ${DEFAULT-VALUE}).")
    long checkpointEvery;

    @Option(names = {"--skip-bad-rows", "--skip-nonfinite"},
            description = "Drop rows with NaN/Inf instead of stopping with an error naming the row.")
    boolean skipBadRows;

    @Option(names = "--resume", description = "Continue the run in --out from its checkpoint.")
    boolean resume;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "cpu", description = "cpu (default) or cuda.")
    String device;

    @Option(names = "--out", required = true, paramLabel = "RUN", description = "Run directory.")
    Path out;

    @Override
    public Integer call() {
        if (!device.equals("cpu")) {
            throw MoescopeException.usage("--device " + device + ": this build bundles DJL's CPU PyTorch natives "
                    + "only; only --device cpu is available");
        }
        int f;
        int kk;
        int b;
        if (resume) { // the run's shape options, from its checkpoint; a given one must agree
            Path ckpt = out.resolve(Checkpoint.FILE);
            if (!Files.isRegularFile(ckpt)) {
                throw MoescopeException.badInput(ckpt, "no checkpoint to resume from");
            }
            Checkpoint.State saved = Checkpoint.readState(ckpt);
            f = ResumedOptions.fromRun(ckpt, "--latents", latents, saved.latents());
            kk = ResumedOptions.fromRun(ckpt, "--k", k, saved.config().k());
            b = ResumedOptions.fromRun(ckpt, "--batch", batch, saved.config().batchSize());
        } else {
            ResumedOptions.requireForNewRun("--latents", latents, "--k", k);
            f = latents;
            kk = k;
            b = batch == null ? DEFAULT_BATCH : batch;
        }
        SaeConfig config = new SaeConfig(f, kk, b, steps, lr, warmup, decayStart, 0.9, 0.999, 1e-8,
                gradClip, auxkAlpha, kAux, deadTokens, thresholdBeta, thresholdStart, !noNormalize, 10, biasInit,
                kernel, checkpointEvery, skipBadRows);
        Engine engine = DjlRuntime.pytorch(common.threads);
        try (ActivationSource src = source.open(common.seed)) {
            Provenance.Builder prov = Provenance.start("sae train").parameter("seed", common.seed)
                    .parameter("threads", common.threads).parameters(src.describe()).parameter("config", config);
            if (source.inputFile() != null) {
                prov.input(source.inputFile());
            }
            SaeTrainRun.execute(engine, src, config, out, resume, common.seed, common.threads, source.hookName(src),
                    prov, spec.commandLine().getOut());
        }
        return 0;
    }
}
