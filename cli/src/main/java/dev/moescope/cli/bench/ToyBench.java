package dev.moescope.cli.bench;

import com.google.gson.JsonObject;
import dev.moescope.cli.CommonOptions;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.toy.bench.MachineProbe;
import dev.moescope.toy.bench.ToyWorkload;
import dev.moescope.toy.experiments.Summaries;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code moescope bench toy}: moescope's fused trainer against the PyTorch reference ({@code bench/toy/reference.py})
 * on the same toy workload, with throughputs in model-steps/s, their ratio, and a roofline estimate.
 */
@Command(name = "toy",
        mixinStandardHelpOptions = true,
        description = {
            "Toy-model training throughput: moescope's fused trainer vs the PyTorch reference.",
            "The reference is bench/toy/reference.py, run with /usr/bin/python3 on the same workload:"
                    + " 'fig3' (n=100 sweep, 4 models x 30 densities, batch 1024) or 'fig4' (C.E3 on the 39x58 "
                    + "grid, batch 512, LB on).",
            "Prints model-steps/s for both, the ratio, and a roofline estimate; writes summary.json "
                    + "to --out."},
        footer = {"", "Example:",
            "  moescope bench toy --workload fig4 --steps 500 --threads 2 \\",
            "      --out runs/bench-fig4"})
public final class ToyBench implements Callable<Integer> {

    @Option(names = "--workload", paramLabel = "NAME", required = true, description = "fig3 or fig4.")
    String workload;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "100",
            description = "Training steps per instance (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--seeds", paramLabel = "N", defaultValue = "1",
            description = "Seeds per cell (default: ${DEFAULT-VALUE}).")
    int seeds;

    @Option(names = "--reference-steps", paramLabel = "N", defaultValue = "-1",
            description = "Steps for the PyTorch side (default: same as --steps); throughput is compared per model-step.")
    int referenceSteps;

    @Option(names = "--reference", paramLabel = "PATH", defaultValue = "bench/toy/reference.py",
            description = "PyTorch reference script; 'none' skips it (default: ${DEFAULT-VALUE}).")
    String reference;

    @Option(names = "--python", paramLabel = "PATH", defaultValue = "/usr/bin/python3",
            description = "Python with torch (default: ${DEFAULT-VALUE}).")
    String python;

    @Option(names = "--out", paramLabel = "DIR", description = "Directory for summary.json (optional).")
    Path out;

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter pw = spec.commandLine().getOut();
        int threads = common.threads == 0 ? Runtime.getRuntime().availableProcessors() : common.threads;
        ToyWorkload w = ToyWorkload.of(workload, steps, seeds, common.seed);
        if (!reference.equals("none")) {
            PythonReference.requireScript(Path.of(reference), "--reference none"); // before the Java side's minutes
        }
        Provenance prov = Provenance.start("bench toy").parameter("workload", workload).parameter("steps", steps)
                .parameter("seeds", seeds).parameter("threads", threads).parameter("seed", common.seed).build();
        Map<String, Object> res = new LinkedHashMap<>();
        double secs = w.run(threads);
        double rate = w.modelSteps() / secs;
        double usefulFlops = w.sparseFlopsPerStep() * steps / secs;
        res.put("workload", workload);
        res.put("threads", threads);
        res.put("model_steps", w.modelSteps());
        res.put("moescope_seconds", secs);
        res.put("moescope_model_steps_per_second", rate);
        res.put("moescope_useful_gflops", usefulFlops / 1e9);
        pw.printf("moescope  %s: %d model-steps in %.2f s = %.0f model-steps/s (%d threads, %.2f GFLOP/s useful)%n",
                workload, w.modelSteps(), secs, rate, threads, usefulFlops / 1e9);
        if (!reference.equals("none")) {
            int refSteps = referenceSteps > 0 ? referenceSteps : steps;
            JsonObject ref = runReference(refSteps, threads);
            double refRate = ref.get("model_steps_per_second").getAsDouble();
            res.put("reference", ref.toString());
            res.put("reference_model_steps_per_second", refRate);
            res.put("ratio", rate / refRate);
            pw.printf("pytorch   %s: %d model-steps in %.2f s = %.0f model-steps/s (torch %s, %d threads, BLAS %s)%n",
                    workload, ref.get("model_steps").getAsLong(), ref.get("seconds").getAsDouble(), refRate,
                    ref.get("torch").getAsString(), threads, ref.get("blas").getAsString());
            pw.printf("ratio     moescope / pytorch = %.2fx%n", rate / refRate);
        }
        double peak = MachineProbe.axpyFlops();
        double bw = MachineProbe.copyBandwidth();
        double bytesPerSec = w.stateBytesPerStep() * steps / secs;
        res.put("machine_axpy_gflops_per_thread", peak / 1e9);
        res.put("machine_copy_gb_per_s", bw / 1e9);
        res.put("roofline_fraction_of_axpy_peak", usefulFlops / (peak * threads));
        res.put("state_bytes_gb_per_s", bytesPerSec / 1e9);
        pw.printf("roofline  useful %.2f GFLOP/s of %.2f (axpy peak %.2f/thread x %d) = %.0f%%; parameter+optimizer "
                        + "state %.2f GB/s vs memory copy %.1f GB/s (state is cache-resident)%n", usefulFlops / 1e9,
                peak * threads / 1e9, peak / 1e9, threads, 100 * usefulFlops / (peak * threads), bytesPerSec / 1e9,
                bw / 1e9);
        pw.flush();
        if (out != null) {
            try {
                Files.createDirectories(out);
            } catch (IOException e) {
                throw MoescopeException.failure(out + ": cannot create output directory: " + e.getMessage(), e);
            }
            Summaries.write(out, "bench toy", res, prov);
        }
        return 0;
    }

    private JsonObject runReference(int refSteps, int threads) {
        return PythonReference.run(python, Path.of(reference), List.of("--workload", workload, "--steps",
                Integer.toString(refSteps), "--threads", Integer.toString(threads), "--seed",
                Long.toString(common.seed)), threads, "--reference none");
    }
}
