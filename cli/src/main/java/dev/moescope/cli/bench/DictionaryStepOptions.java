package dev.moescope.cli.bench;

import dev.moescope.core.provenance.Provenance;
import picocli.CommandLine.Option;

import java.util.List;

/**
 * The workload and reference options {@code bench sae} and {@code bench crosscoder} share: one BatchTopK training
 * step of the same dictionary size, k and batch, timed on both sides.
 */
public final class DictionaryStepOptions {

    @Option(names = "--latents", paramLabel = "N", defaultValue = "8192",
            description = "Dictionary size (default: ${DEFAULT-VALUE}).")
    int latents;

    @Option(names = "--k", paramLabel = "K", defaultValue = "32", description = "k (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "4096",
            description = "Tokens per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "5",
            description = "Timed steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--warmup-steps", paramLabel = "N", defaultValue = "2",
            description = "Untimed steps first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--python", paramLabel = "PATH", defaultValue = "/usr/bin/python3",
            description = "Python with torch (default: ${DEFAULT-VALUE}).")
    String python;

    @Option(names = "--skip-reference", description = "Time the Java step only.")
    boolean skipReference;

    /** The shared workload as arguments of the reference scripts ({@code bench/sae}, {@code bench/crosscoder}). */
    List<String> referenceArgs() {
        return List.of("--latents", "" + latents, "--k", "" + k, "--batch", "" + batch, "--steps", "" + steps,
                "--warmup", "" + warmup);
    }

    /** Records the shared workload in a benchmark's provenance. */
    Provenance.Builder record(Provenance.Builder prov) {
        return prov.parameter("latents", latents).parameter("k", k).parameter("batch", batch).parameter("steps", steps)
                .parameter("warmup_steps", warmup);
    }
}
