package dev.moescope.cli.sae;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code moescope sae}: BatchTopK sparse autoencoders over recorded activations. */
@Command(name = "sae",
        mixinStandardHelpOptions = true,
        description = {"BatchTopK sparse autoencoders over recorded activations.", "Train on one hook of an activation store (or synthetic data, or an .npy matrix), evaluate on held-out "
                + "documents with top-activating contexts, encode a store's rows back into it as a sparse hook."},
        subcommands = {SaeTrainCommand.class, SaeEvalCommand.class, SaeEncodeCommand.class})
public final class SaeCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** A group on its own prints its help: the verbs are its subcommands. */
    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
