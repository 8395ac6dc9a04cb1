package dev.moescope.cli.toy;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code moescope toy}: Toy models of superposition, dense vs MoE (Elhage et al. 2022; Chaudhari et al. 2025). */
@Command(name = "toy",
        mixinStandardHelpOptions = true,
        description = {"Toy models of superposition, dense vs MoE (Elhage et al. 2022; Chaudhari et al. 2025).", "Train many tiny autoencoders at once, measure superposition and reproduce the papers' figures."},
        subcommands = {ReproduceCommand.class, TrainCommand.class, SweepCommand.class})
public final class ToyCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** A group on its own prints its help: the verbs are its subcommands. */
    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
