package dev.moescope.cli.bench;

import ai.djl.engine.Engine;
import dev.moescope.cli.CommonOptions;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.sae.bench.StepBenchmark;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code moescope bench sae}: the Java BatchTopK step (sparse kernels) against the dense PyTorch reference in
 * {@code bench/sae/reference.py}, on the same synthetic workload, one after the other in one run.
 */
@Command(name = "sae",
        mixinStandardHelpOptions = true,
        description = {
            "BatchTopK SAE training step: moescope vs a dense PyTorch reference.",
            "The moescope side runs DJL + sparse Java kernels, the reference is "
                    + "bench/sae/reference.py, with the same shapes and thread count.",
            "Prints tokens/s of both, the ratio, where the Java step's time goes and how close it is "
                    + "to the encoder-matmul floor; writes OUT/summary.json."},
        footer = {"", "Example:", "  moescope bench sae --threads 2   # d=512, F=8192, k=32, batch 4096"})
public final class SaeBench implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Mixin
    DictionaryStepOptions step;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--d", paramLabel = "N", defaultValue = "512",
            description = "Activation width (default: ${DEFAULT-VALUE}).")
    int d;

    @Option(names = "--reference", paramLabel = "PATH", defaultValue = "bench/sae/reference.py",
            description = "The reference script (default: ${DEFAULT-VALUE}, relative to the working directory).")
    Path reference;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/bench-sae",
            description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    /** What summary.json holds. */
    record Summary(Provenance provenance, StepBenchmark.Result java, Map<String, Object> reference, Double ratio,
                   String load) {
    }

    @Override
    public Integer call() throws Exception {
        int threads = common.threads > 0 ? common.threads : Runtime.getRuntime().availableProcessors();
        PrintWriter o = spec.commandLine().getOut();
        Provenance.Builder prov = step.record(Provenance.start("bench sae").parameter("d", d))
                .parameter("threads", threads).parameter("seed", common.seed);
        Map<String, Object> ref = null;
        if (!step.skipReference) {
            PythonReference.requireScript(reference, "--skip-reference");
            prov.input(reference);
            ref = runReference(threads);
        }
        Engine engine = DjlRuntime.pytorch(threads);
        StepBenchmark.Result java = StepBenchmark.run(engine, new StepBenchmark.Spec(d, step.latents, step.k,
                step.batch, step.steps, step.warmup, threads, common.seed));
        String load = MachineLoad.now();
        o.printf("BatchTopK SAE step, d=%d F=%d k=%d batch=%d fp32, %d threads; load %s%n", d, step.latents, step.k,
                step.batch, threads, load);
        o.printf("  moescope (DJL %s + sparse Java kernels): %,10.0f tokens/s  (%.0f ms/step)%n",
                dev.moescope.core.BuildInfo.current().djlVersion(), java.tokensPerSecond(), java.stepMs());
        Double ratio = null;
        if (ref != null) {
            double refTps = ((Number) ref.get("tokens_per_s")).doubleValue();
            ratio = java.tokensPerSecond() / refTps;
            o.printf("  PyTorch dense reference (torch %s, %s): %,10.0f tokens/s  (%.0f ms/step)%n", ref.get("torch"),
                    ref.get("blas_info"), refTps, ((Number) ref.get("step_ms")).doubleValue());
            o.printf("  ratio moescope / reference: %.2fx%n", ratio);
        }
        o.printf("  encoder matmul floor: %.0f ms (%.0f GFLOP/s); step = %.2fx the floor%n",
                java.encoderMatmulFloorMs(), 2.0 * step.batch * d * step.latents / java.encoderMatmulFloorMs() / 1e6,
                java.stepMs() / java.encoderMatmulFloorMs());
        o.println("  where the Java step goes (ms/step):");
        java.phasesMs().forEach((p, ms) -> {
            if (p.equals("kernel")) {
                o.printf("    %-34s %7.1f%n", p, ms);
                java.kernelPhasesMs().forEach((kp, kms) -> o.printf("      %-32s %7.1f%n", kp, kms));
            } else {
                o.printf("    %-34s %7.1f%n", p, ms);
            }
        });
        Files.createDirectories(out);
        Json.write(out.resolve("summary.json"), new Summary(prov.build().finishedNow(), java, ref, ratio, load));
        o.printf("wrote %s%n", out.resolve("summary.json"));
        o.flush();
        return 0;
    }

    private Map<String, Object> runReference(int threads) {
        List<String> args = new ArrayList<>(step.referenceArgs());
        args.addAll(List.of("--d", "" + d, "--threads", "" + threads, "--seed", "" + common.seed));
        return PythonReference.asMap(PythonReference.run(step.python, reference, args, threads, "--skip-reference"));
    }

}
