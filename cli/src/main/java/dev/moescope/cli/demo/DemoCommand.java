package dev.moescope.cli.demo;

import dev.moescope.cli.CommonOptions;
import dev.moescope.cli.doctor.NativeChecks;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code moescope demo}: runs the main job on the bundled fixtures. Until every stage exists it runs the stages
 * that do, and says exactly which ran and which did not.
 */
@Command(name = "demo",
        mixinStandardHelpOptions = true,
        description = {"Run moescope end to end on the bundled fixtures, offline, and say what ran."},
        footer = {"", "Example:", "  moescope demo"})
public final class DemoCommand implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        out.println("moescope demo: stage 0/4, native stack check");
        out.println("  " + NativeChecks.pytorch(common.threads));
        out.println("  " + NativeChecks.onnxRuntime());
        out.println("  " + NativeChecks.tokenizers());
        out.println("ran: native stack check.");
        out.println("not yet built, so not run: toy-model sweep, checkpoint probe, SAE, crosscoder, report.");
        out.flush();
        return 0;
    }
}
