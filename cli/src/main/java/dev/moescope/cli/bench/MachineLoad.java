package dev.moescope.cli.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The machine's load averages, printed and stored beside every benchmark figure (other work skews timings). */
final class MachineLoad {

    private MachineLoad() {
    }

    /** The 1, 5 and 15 minute load averages ({@code "1.87 1.99 2.21"}), or {@code "unknown"} off Linux. */
    static String now() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).strip().split("\\s+");
            return f.length < 3 ? "unknown" : f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
