package dev.moescope.cli.bench;

import ai.djl.engine.Engine;
import dev.moescope.cli.CommonOptions;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.crosscoder.bench.CrosscoderStepBenchmark;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code moescope bench crosscoder}: the Java crosscoder training step (sae's sparse kernels with the crosscoder
 * objective) against the dense PyTorch reference in {@code bench/crosscoder/reference.py}, on the same two-source
 * workload, one after the other in one run.
 */
@Command(name = "crosscoder",
        mixinStandardHelpOptions = true,
        description = {
            "BatchTopK crosscoder training step: moescope vs a dense PyTorch reference.",
            "Two sources; moescope runs DJL + sparse Java kernels, the reference is "
                    + "bench/crosscoder/reference.py, with the same shapes, penalties and thread count.",
            "Prints tokens/s of both, the ratio, where each step's time goes and how close the Java "
                    + "step is to the encoder-matmul floor; writes OUT/summary.json.",
            "The two sides alternate for --rounds rounds (the machine's load drifts); the headline "
                    + "ratio compares each side's fastest round, the median of the per-round ratios is printed "
                    + "next to it."},
        footer = {"", "Example:",
                "  # 2 sources of d=256, F=8192, k=32, 256 shared latents, batch 4096:",
                "  moescope bench crosscoder --threads 2"})
public final class CrosscoderBench implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Mixin
    DictionaryStepOptions step;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--d", paramLabel = "N", defaultValue = "256",
            description = "Width of each source (default: ${DEFAULT-VALUE}).")
    int d;

    @Option(names = "--shared", paramLabel = "N", defaultValue = "256",
            description = "Designated shared latents (default: ${DEFAULT-VALUE}).")
    int shared;

    @Option(names = "--sparsity-penalty", paramLabel = "LAMBDA", defaultValue = "0.03125",
            description = "Decoder-norm L1 weight in both steps, 0 off (default: 1/32).")
    double sparsityPenalty;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "3",
            description = "Alternating reference/Java rounds (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--reference", paramLabel = "PATH", defaultValue = "bench/crosscoder/reference.py",
            description = "The reference script (default: ${DEFAULT-VALUE}, relative to the working directory).")
    Path reference;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/bench-crosscoder",
            description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    /** One round: the reference (null when skipped), then the Java step, with the load after it. */
    record Round(Map<String, Object> reference, CrosscoderStepBenchmark.Result java, Double ratio, String load) {
    }

    /** What summary.json holds: the best round of each side, their ratio, the median per-round ratio, every round. */
    record Summary(Provenance provenance, CrosscoderStepBenchmark.Result java, Map<String, Object> reference,
                   Double ratio, Double medianRoundRatio, String loadBefore, String loadAfter, List<Round> rounds) {
    }

    @Override
    public Integer call() throws Exception {
        int threads = common.threads > 0 ? common.threads : Runtime.getRuntime().availableProcessors();
        PrintWriter o = spec.commandLine().getOut();
        Provenance.Builder prov = step.record(Provenance.start("bench crosscoder").parameter("d", d))
                .parameter("shared", shared).parameter("sparsity_penalty", sparsityPenalty)
                .parameter("threads", threads).parameter("seed", common.seed);
        if (rounds < 1) {
            throw MoescopeException.usage("--rounds must be at least 1, got " + rounds);
        }
        String loadBefore = MachineLoad.now();
        if (!step.skipReference) {
            PythonReference.requireScript(reference, "--skip-reference");
            prov.input(reference);
        }
        Engine engine = DjlRuntime.pytorch(threads);
        List<Round> done = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            Map<String, Object> ref = step.skipReference ? null : runReference(threads);
            CrosscoderStepBenchmark.Result j = CrosscoderStepBenchmark.run(engine, new CrosscoderStepBenchmark.Spec(
                    d, step.latents, step.k, shared, step.batch, step.steps, step.warmup, sparsityPenalty, threads,
                    common.seed));
            done.add(new Round(ref, j, ref == null ? null : j.tokensPerSecond() / tokensPerSecond(ref),
                    MachineLoad.now()));
        }
        String loadAfter = MachineLoad.now();
        CrosscoderStepBenchmark.Result java = done.stream().map(Round::java)
                .max(Comparator.comparingDouble(CrosscoderStepBenchmark.Result::tokensPerSecond)).get();
        Map<String, Object> ref = step.skipReference ? null : done.stream().map(Round::reference)
                .max(Comparator.comparingDouble(CrosscoderBench::tokensPerSecond)).get();
        o.printf("BatchTopK crosscoder step, 2 sources x d=%d, F=%d k=%d shared=%d batch=%d fp32, L1 %.4g, AuxK, "
                        + "clip 1.0; %d threads; %d rounds; load before %s, after %s%n", d, step.latents, step.k,
                shared, step.batch, sparsityPenalty, threads, rounds, loadBefore, loadAfter);
        for (int r = 0; r < done.size(); r++) {
            Round rd = done.get(r);
            o.printf("  round %d: moescope %,8.0f tokens/s", r + 1, rd.java().tokensPerSecond());
            if (rd.reference() != null) {
                o.printf(", reference %,8.0f tokens/s, ratio %.2fx", tokensPerSecond(rd.reference()), rd.ratio());
            }
            o.printf("  (load %s)%n", rd.load());
        }
        o.printf("  moescope (DJL %s + sparse Java kernels), best round: %,10.0f tokens/s  (%.0f ms/step)%n",
                dev.moescope.core.BuildInfo.current().djlVersion(), java.tokensPerSecond(), java.stepMs());
        Double ratio = null;
        Double median = null;
        if (ref != null) {
            double refTps = tokensPerSecond(ref);
            ratio = java.tokensPerSecond() / refTps;
            double[] rs = done.stream().mapToDouble(Round::ratio).sorted().toArray();
            median = rs.length % 2 == 1 ? rs[rs.length / 2] : (rs[rs.length / 2 - 1] + rs[rs.length / 2]) / 2;
            o.printf("  PyTorch dense reference (torch %s, %s), best round: %,10.0f tokens/s  (%.0f ms/step)%n",
                    ref.get("torch"), ref.get("blas_info"), refTps, ((Number) ref.get("step_ms")).doubleValue());
            o.printf("  ratio moescope / reference: %.2fx (best rounds), median of rounds %.2fx%n", ratio, median);
        }
        double encoderFlops = 2.0 * step.batch * 2 * d * step.latents; // both sources' encoder matmuls
        o.printf("  encoder matmul floor: %.0f ms (%.0f GFLOP/s); step = %.2fx the floor%n",
                java.encoderMatmulFloorMs(), encoderFlops / java.encoderMatmulFloorMs() / 1e6,
                java.stepMs() / java.encoderMatmulFloorMs());
        o.println("  where the Java step goes (ms/step, its best round):");
        java.phasesMs().forEach((p, ms) -> {
            o.printf("    %-38s %7.1f%n", p, ms);
            if (p.equals("kernel")) {
                java.kernelPhasesMs().forEach((kp, kms) -> o.printf("      %-36s %7.1f%n", kp, kms));
            }
        });
        if (ref != null && ref.get("phases_ms") instanceof Map<?, ?> phases) {
            o.println("  where the PyTorch step goes (ms/step, its best round):");
            phases.forEach((p, ms) -> o.printf("    %-38s %7.1f%n", p, ((Number) ms).doubleValue()));
        }
        Files.createDirectories(out);
        Json.write(out.resolve("summary.json"), new Summary(prov.build().finishedNow(), java, ref, ratio, median,
                loadBefore, loadAfter, done));
        o.printf("wrote %s%n", out.resolve("summary.json"));
        o.flush();
        return 0;
    }

    private Map<String, Object> runReference(int threads) {
        List<String> args = new ArrayList<>(step.referenceArgs());
        args.addAll(List.of("--d", "" + d, "--shared", "" + shared, "--sparsity-penalty", "" + sparsityPenalty,
                "--threads", "" + threads, "--seed", "" + common.seed));
        return PythonReference.asMap(PythonReference.run(step.python, reference, args, threads, "--skip-reference"));
    }

    private static double tokensPerSecond(Map<String, Object> reference) {
        return ((Number) reference.get("tokens_per_s")).doubleValue();
    }

}
