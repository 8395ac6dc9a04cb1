package dev.moescope.cli.store;

import dev.moescope.cli.CommonOptions;
import dev.moescope.store.StoreVerifier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code moescope store verify STORE}: checksums, row counts, schemas and token invariants of every shard. */
@Command(name = "verify",
        mixinStandardHelpOptions = true,
        description = {
            "Check every shard of a store (checksums, row counts, schemas, token invariants).",
            "Checksums (CRC32C) every file against the manifest, checks each file's schema and rows, "
                    + "and the tokens table's invariants. Exits 3 naming the first bad file and shard."},
        footer = {"", "Example:", "  moescope store verify runs/probe/store"})
public final class VerifyCommand implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STORE", description = "Store directory.")
    Path store;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        StoreVerifier.Report r = StoreVerifier.verify(store);
        out.printf("ok: %d shards, %d files, %,d rows, %s checksummed%n", r.shards(), r.files(), r.rows(), InspectCommand.human(r.bytes()));
        if (!r.uncommitted().isEmpty()) {
            out.println("note: ignored uncommitted leftovers of an interrupted writer: " + String.join(", ", r.uncommitted()));
        }
        out.flush();
        return 0;
    }
}
