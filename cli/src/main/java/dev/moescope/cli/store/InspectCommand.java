package dev.moescope.cli.store;

import dev.moescope.cli.CommonOptions;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.HookSpec;
import dev.moescope.store.RoutingSpec;
import dev.moescope.store.manifest.Manifest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code moescope store inspect STORE}: what a store holds, read from its manifest (fast, no data read). */
@Command(name = "inspect",
        mixinStandardHelpOptions = true,
        description = {
            "Show a store's hooks, widths, dtypes, rows, documents, domains, routing, size and "
                    + "provenance."},
        footer = {"", "Example:", "  moescope store inspect runs/probe/store"})
public final class InspectCommand implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STORE", description = "Store directory.")
    Path store;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (ActivationStore s = ActivationStore.open(store)) {
            Manifest m = s.manifest();
            out.printf("store        %s (format %s v%d)%n", store, m.format(), m.formatVersion());
            out.printf("model        %s%n", m.model());
            out.printf("tokenizer    %s%n", m.tokenizer());
            out.printf("rows         %,d tokens in %,d documents, %d shards%n", m.rows(), m.documents(), m.shards().size());
            out.printf("on disk      %s (%s compression)%n", human(s.bytesOnDisk()), m.compression().name().toLowerCase());
            out.printf("token text   %s%n", m.tokenText() ? "yes" : "no");
            out.println("hooks");
            for (HookSpec h : m.hooks()) {
                out.printf("  %-28s width %-6d %s%n", h.name(), h.width(), h.dtype().label());
            }
            out.println("routing");
            if (m.routing().isEmpty()) {
                out.println("  (none)");
            }
            for (RoutingSpec r : m.routing()) {
                out.printf("  layer %-3d top-%d of %d experts%n", r.layer(), r.topK(), r.experts());
            }
            out.println("domains");
            for (Map.Entry<String, Long> e : m.domainRows().entrySet()) {
                out.printf("  %-20s %,d rows (%.1f%%)%n", e.getKey(), e.getValue(), 100.0 * e.getValue() / Math.max(1, m.rows()));
            }
            if (m.provenance() != null) {
                out.printf("provenance   %s, moescope %s, started %s%n", m.provenance().operation(), m.provenance().version(),
                        m.provenance().started());
                m.provenance().parameters().forEach((k, v) -> out.printf("  %s = %s%n", k, v));
            }
            var leftovers = s.uncommittedDirectories();
            if (!leftovers.isEmpty()) {
                out.println("uncommitted  " + String.join(", ", leftovers) + " (left by an interrupted writer; ignored, removed on resume)");
            }
        }
        out.flush();
        return 0;
    }

    static String human(long bytes) {
        if (bytes < 1 << 20) {
            return String.format("%.1f KiB", bytes / 1024.0);
        }
        if (bytes < 1L << 30) {
            return String.format("%.1f MiB", bytes / (double) (1 << 20));
        }
        return String.format("%.2f GiB", bytes / (double) (1L << 30));
    }
}
