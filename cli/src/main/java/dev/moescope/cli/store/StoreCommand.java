package dev.moescope.cli.store;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code moescope store}: Inspect, verify and export Arrow activation stores. */
@Command(name = "store",
        mixinStandardHelpOptions = true,
        description = {"Inspect, verify and export Arrow activation stores.", "A store holds one row per token: tokens, routing and activations per hook."},
        subcommands = {InspectCommand.class, VerifyCommand.class, ExportCommand.class, SynthCommand.class})
public final class StoreCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** A group on its own prints its help: the verbs are its subcommands. */
    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
