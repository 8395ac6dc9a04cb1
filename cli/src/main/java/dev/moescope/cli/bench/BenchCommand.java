package dev.moescope.cli.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code moescope bench}: Benchmarks that compare moescope with its reference side by side. */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        description = {"Benchmarks that compare moescope with its reference side by side.", "Each prints both throughputs and their ratio."},
        subcommands = {CrosscoderBench.class, ProbeCaptureBench.class, SaeBench.class, StoreBench.class, ToyBench.class})
public final class BenchCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** A group on its own prints its help: the verbs are its subcommands. */
    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
