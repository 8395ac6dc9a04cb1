package dev.moescope.cli;

import dev.moescope.core.BuildInfo;
import picocli.CommandLine;

/** {@code moescope --version}: the build's version and commit, and the native stack it carries. */
public final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        BuildInfo b = BuildInfo.current();
        return new String[] {
            "moescope " + b.describe(),
            "DJL " + b.djlVersion() + " (PyTorch " + b.pytorchVersion() + "), ONNX Runtime " + b.onnxRuntimeVersion()
                    + ", Arrow " + b.arrowVersion(),
            "Java " + System.getProperty("java.version") + " on " + System.getProperty("os.name") + " "
                    + System.getProperty("os.arch")
        };
    }
}
