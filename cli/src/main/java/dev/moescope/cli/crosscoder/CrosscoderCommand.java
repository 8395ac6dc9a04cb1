package dev.moescope.cli.crosscoder;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code moescope crosscoder}: BatchTopK crosscoders: diff how an MoE and a dense model organise features. */
@Command(name = "crosscoder",
        mixinStandardHelpOptions = true,
        description = {"BatchTopK crosscoders: diff how an MoE and a dense model organise features.", "Train jointly on paired stores recorded on the same tokens, then classify latents."},
        subcommands = {CrosscoderTrainCommand.class, CrosscoderDiffCommand.class})
public final class CrosscoderCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** A group on its own prints its help: the verbs are its subcommands. */
    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
