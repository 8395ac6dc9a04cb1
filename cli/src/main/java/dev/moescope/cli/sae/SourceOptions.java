package dev.moescope.cli.sae;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.sae.data.ActivationSource;
import dev.moescope.sae.data.NpySource;
import dev.moescope.sae.data.StoreSource;
import dev.moescope.sae.data.SyntheticSource;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;

/** Where {@code sae train} reads activations: exactly one of --synthetic, --npy, --store. */
public final class SourceOptions {

    /** The mutually exclusive source choice. */
    public static final class Choice {
        @Option(names = "--synthetic", description = "Synthetic activations from a known random dictionary "
                + "(sparse non-negative combinations of unit vectors plus noise); see --synthetic-*.")
        boolean synthetic;

        @Option(names = "--npy", paramLabel = "FILE",
                description = "A float32 .npy matrix (rows, width) of activations.")
        Path npy;

        @Option(names = "--store", paramLabel = "STORE", description = "An activation store (with --hook).")
        Path store;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Choice choice;

    @Option(names = "--hook", paramLabel = "HOOK", description = "Hook to train on (with --store); also recorded "
            + "as hook_name in cfg.json (default: the source's name).")
    String hook;

    @Option(names = "--validation-fraction", paramLabel = "P", defaultValue = "0.1",
            description = "With --store: share of documents held out for validation, chosen by --seed "
                    + "(default: ${DEFAULT-VALUE}).")
    double validationFraction;

    @Option(names = "--shuffle-buffer", paramLabel = "N", defaultValue = "16",
            description = "With --store: shuffle buffer in batches; memory is N x batch x width x 4 bytes "
                    + "(default: ${DEFAULT-VALUE}).")
    int shuffleBatches;

    @Option(names = "--synthetic-width", paramLabel = "D", defaultValue = "64",
            description = "Synthetic activation width (default: ${DEFAULT-VALUE}).")
    int width;

    @Option(names = "--synthetic-features", paramLabel = "N", defaultValue = "96",
            description = "True dictionary size (default: ${DEFAULT-VALUE}).")
    int features;

    @Option(names = "--synthetic-active", paramLabel = "A", defaultValue = "3",
            description = "Mean active true directions per row (default: ${DEFAULT-VALUE}).")
    double active;

    @Option(names = "--synthetic-noise", paramLabel = "S", defaultValue = "0.01",
            description = "Gaussian noise std per dimension (default: ${DEFAULT-VALUE}).")
    double noise;

    @Option(names = "--synthetic-validation-rows", paramLabel = "N", defaultValue = "16384",
            description = "Held-out synthetic rows (default: ${DEFAULT-VALUE}).")
    int validationRows;

    /** Opens the chosen source. */
    public ActivationSource open(long seed) {
        if (choice.synthetic) {
            return new SyntheticSource(new SyntheticSource.Spec(width, features, active, noise, validationRows, seed));
        }
        if (choice.npy != null) {
            return new NpySource(choice.npy, seed);
        }
        if (hook == null) {
            throw MoescopeException.usage("--store needs --hook HOOK (list a store's hooks with `moescope store inspect STORE`)");
        }
        return new StoreSource(new StoreSource.Spec(choice.store, hook, seed, validationFraction, shuffleBatches));
    }

    /** The hook label recorded in cfg.json. */
    public String hookName(ActivationSource s) {
        return hook != null ? hook : s.name();
    }

    /** The file whose hash provenance records: the .npy, or the store's manifest (which lists shard checksums). */
    public Path inputFile() {
        if (choice.store != null) {
            return choice.store.resolve(dev.moescope.store.manifest.Manifest.FILE_NAME);
        }
        return choice.npy;
    }

    /** Re-opens the source a run was trained on, from what {@link ActivationSource#describe()} recorded. */
    public static ActivationSource reopen(Map<String, String> recorded) {
        String kind = recorded.getOrDefault("source", "");
        return switch (kind) {
            case "synthetic" -> new SyntheticSource(SyntheticSource.Spec.from(recorded));
            case "npy" -> new NpySource(Path.of(recorded.get("npy.path")), Long.parseLong(recorded.get("npy.seed")));
            case "store" -> new StoreSource(StoreSource.Spec.from(recorded));
            default -> throw MoescopeException.badInput("cfg.json: unknown source '" + kind + "'");
        };
    }
}
