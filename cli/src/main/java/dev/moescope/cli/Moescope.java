package dev.moescope.cli;

import dev.moescope.cli.bench.BenchCommand;
import dev.moescope.cli.crosscoder.CrosscoderCommand;
import dev.moescope.cli.demo.DemoCommand;
import dev.moescope.cli.doctor.DoctorCommand;
import dev.moescope.cli.probe.ProbeCommand;
import dev.moescope.cli.sae.SaeCommand;
import dev.moescope.cli.store.StoreCommand;
import dev.moescope.cli.toy.ToyCommand;
import dev.moescope.core.Logging;
import dev.moescope.core.djl.DjlRuntime;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The root command: {@code moescope <group> <verb> [options]}. */
@Command(name = "moescope",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        usageHelpAutoWidth = true,
        description = {
            "Mechanistic interpretability for Mixture-of-Experts models.",
            "Toy models of superposition (dense vs MoE), routing and activation probes of ONNX MoE checkpoints, "
                + "and sparse dictionaries (BatchTopK SAEs, crosscoders) over recorded activations.",
            ""},
        footer = {"", "Run 'moescope <command> --help' for a command's options and an example."},
        subcommands = {
            ToyCommand.class,
            ProbeCommand.class,
            StoreCommand.class,
            SaeCommand.class,
            CrosscoderCommand.class,
            DemoCommand.class,
            BenchCommand.class,
            DoctorCommand.class,
            CommandLine.HelpCommand.class})
public final class Moescope implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The configured command line (tests use this too, with their own output streams). */
    public static CommandLine commandLine() {
        DjlRuntime.configureOffline();
        Logging.configure(false); // quiet unless --verbose turns it up while parsing, before any logger exists
        CommandLine cl = new CommandLine(new Moescope());
        ErrorReporting errors = new ErrorReporting();
        cl.setParameterExceptionHandler(errors);
        cl.setExecutionExceptionHandler(errors);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
