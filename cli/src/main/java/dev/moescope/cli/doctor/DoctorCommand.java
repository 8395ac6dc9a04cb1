package dev.moescope.cli.doctor;

import dev.moescope.cli.CommonOptions;
import dev.moescope.core.error.MoescopeException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code moescope doctor}: loads each native library offline and does a small computation with it. */
@Command(name = "doctor",
        mixinStandardHelpOptions = true,
        description = {
            "Check that the native stack works offline on this machine.",
            "Each of libtorch through DJL, ONNX Runtime and Hugging Face tokenizers must load and "
                    + "compute."},
        footer = {"", "Example:", "  moescope doctor"})
public final class DoctorCommand implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try {
            out.println(NativeChecks.pytorch(common.threads));
            out.println(NativeChecks.onnxRuntime());
            out.println(NativeChecks.tokenizers());
        } catch (IllegalStateException e) {
            throw MoescopeException.failure(e.getMessage(), e);
        }
        out.println("all native libraries ok");
        out.flush();
        return 0;
    }
}
