package dev.moescope.cli.sae;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code moescope sae}: BatchTopK sparse autoencoders over recorded activations. */
@Command(name = "sae",
        mixinStandardHelpOptions = true,
        description = {"BatchTopK sparse autoencoders over recorded activations.", "Train on synthetic data or an .npy activation matrix (the activation-store source comes with the store), then evaluate."},
        subcommands = {SaeTrainCommand.class, SaeEvalCommand.class})
public final class SaeCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** A group on its own prints its help: the verbs are its subcommands. */
    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
