package dev.moescope.cli.probe;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code moescope probe}: Probe pretrained MoE checkpoints exported to ONNX. */
@Command(name = "probe",
        mixinStandardHelpOptions = true,
        description = {"Probe pretrained MoE checkpoints exported to ONNX.", "Record per-token routing and activations into an activation store and analyse routing."},
        subcommands = {ProbeInspectCommand.class, ProbeRunCommand.class, ProbeAnalyzeCommand.class, ProbeLensCommand.class,
                ProbeExpertsCommand.class, ProbeReproduceCommand.class})
public final class ProbeCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** A group on its own prints its help: the verbs are its subcommands. */
    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
