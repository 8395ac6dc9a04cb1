package dev.moescope.sae.train;

import ai.djl.engine.Engine;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.PreviousRun;
import dev.moescope.core.json.Json;
import dev.moescope.core.progress.Progress;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.sae.data.ActivationSource;
import dev.moescope.sae.io.SaeLensExport;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code sae train} end to end: start or resume a {@link SaeTraining} in a run directory, step it with a progress
 * bar (tokens/s, loss, L0, dead fraction), checkpoint periodically and at the end, then export the SAELens pair and
 * write {@code summary.json}. Layout of a run directory:
 * <pre>
 *   RUN/sae_weights.safetensors, RUN/cfg.json   the SAE (SAELens JumpReLU layout, raw activation units)
 *   RUN/checkpoint.safetensors                  full training state for --resume
 *   RUN/summary.json                            what was trained, how it went, provenance
 * </pre>
 */
public final class SaeTrainRun {

    private SaeTrainRun() {
    }

    /** How the training went. */
    public record Summary(Provenance provenance, SaeConfig config, Map<String, String> source, String hook,
                          long steps, long resumedFrom, long tokens, double seconds, double tokensPerSecond,
                          double finalLoss, double finalReconstruction, double finalL0, double finalDeadFraction,
                          double threshold, double inputScale, double learningRate) {
    }

    public static Summary execute(Engine engine, ActivationSource source, SaeConfig config, Path run, boolean resume,
                                  long seed, int threads, String hook, Provenance.Builder provenance,
                                  PrintWriter out) {
        Path ckpt = run.resolve(Checkpoint.FILE);
        if (resume && !Files.exists(ckpt)) {
            throw MoescopeException.badInput(ckpt, "no checkpoint to resume from");
        }
        if (!resume) {
            PreviousRun.refuse(run, "training run", true, Checkpoint.FILE, "summary.json");
        }
        try {
            Files.createDirectories(run);
        } catch (java.io.IOException e) {
            throw MoescopeException.failure(run + ": cannot create: " + e.getMessage(), e);
        }
        long t0 = System.nanoTime();
        try (SaeTraining t = resume ? SaeTraining.resume(engine, source, config, ckpt, threads)
                : SaeTraining.start(engine, source, config, seed, threads)) {
            long first = t.stepsDone();
            long tokens = 0;
            StepStats last = null;
            double emaLoss = Double.NaN;
            long lastTick = System.nanoTime();
            long tokensSinceTick = 0;
            double rate = 0;
            try (Progress p = Progress.start("sae train", config.steps(), "step")) {
                p.stepTo(first);
                while (t.stepsDone() < config.steps()) {
                    last = t.step();
                    tokens += last.rows();
                    tokensSinceTick += last.rows();
                    emaLoss = Double.isNaN(emaLoss) ? last.loss() : 0.9 * emaLoss + 0.1 * last.loss();
                    long now = System.nanoTime();
                    if (now - lastTick > 1_000_000_000L || t.stepsDone() == config.steps()) {
                        rate = tokensSinceTick / ((now - lastTick) / 1e9);
                        lastTick = now;
                        tokensSinceTick = 0;
                    }
                    p.stepBy(1);
                    p.message(String.format("%,.0f tok/s  loss %.4g  L0 %.1f  dead %.1f%%", rate, emaLoss, last.l0(),
                            100 * last.deadFraction()));
                    if (config.checkpointEvery() > 0 && t.stepsDone() % config.checkpointEvery() == 0
                            && t.stepsDone() < config.steps()) {
                        t.checkpoint(ckpt);
                    }
                }
            }
            t.checkpoint(ckpt);
            double seconds = (System.nanoTime() - t0) / 1e9;
            Provenance prov = provenance.parameter("resumed_from_step", first).build().finishedNow();
            SaeModel m = t.model();
            SaeLensExport.write(run, m.width(), m.latents(), m.read(SaeModel.ENCODER), m.read(SaeModel.ENCODER_BIAS),
                    m.read(SaeModel.DECODER), m.read(SaeModel.DECODER_BIAS), t.scale(), t.threshold().value(),
                    config.k(), hook, source.describe(), prov);
            Summary s = new Summary(prov, config, new LinkedHashMap<>(source.describe()), hook, t.stepsDone(), first,
                    tokens, seconds, tokens / seconds, last.loss(), last.reconstruction(), last.l0(),
                    last.deadFraction(), t.threshold().value(), t.scale(), last.lr());
            Json.write(run.resolve("summary.json"), s);
            out.printf("trained %d steps (%d this run, %,d tokens) in %.1f s: %,.0f tokens/s%n", s.steps(),
                    s.steps() - first, tokens, seconds, s.tokensPerSecond());
            out.printf("final batch: loss %.4g  reconstruction %.4g  L0 %.2f  dead %.2f%%  threshold %.4g%n",
                    s.finalLoss(), s.finalReconstruction(), s.finalL0(), 100 * s.finalDeadFraction(), s.threshold());
            out.printf("wrote %s, %s, %s, summary.json%n", run.resolve(SaeLensExport.WEIGHTS),
                    SaeLensExport.CONFIG, Checkpoint.FILE);
            out.flush();
            return s;
        }
    }
}
