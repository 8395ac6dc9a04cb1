package dev.moescope.probe.reproduce;

import dev.moescope.core.error.MoescopeException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The reproduction targets that need released data, not a running model (probe spec §7, targets 1–5; target
 * 6, co-activation parity, is a unit test of {@code CoActivation}).
 */
public enum ReproductionTarget {
    DEEPSEEK_ROUTING(1, "deepseek-routing", "MoE Lens DeepSeek-MoE-16B routing counts: specialisation and load",
            "a moescope-expert-counts/1 JSON file or folder (converted from MoE Lens's data/routing/*.pt)"),
    OLMOE_ROUTING(2, "olmoe-routing", "OLMoE and Mixtral domain specialisation from OLMoE's released counts",
            "a folder (or file) of moescope-expert-counts/1 JSON converted from OLMoE's routing_output pickles"),
    LENS_PERPLEXITY(3, "lens-perplexity", "MoE Lens perplexity vs number of active experts",
            "MoE Lens's data/ folder (pplx/ and pplx-data/)"),
    LENS_COSINE(4, "lens-cosine", "MoE Lens H1 vs H6 cosine averages",
            "MoE Lens's data/ folder (cosine-sim-csv/ and cosine-sim-avg/)"),
    BASELINES(5, "baselines", "Uniform and random-routing baselines", "none");

    private final int number;
    private final String cliName;
    private final String title;
    private final String data;

    ReproductionTarget(int number, String cliName, String title, String data) {
        this.number = number;
        this.cliName = cliName;
        this.title = title;
        this.data = data;
    }

    public int number() {
        return number;
    }

    public String cliName() {
        return cliName;
    }

    public String title() {
        return title;
    }

    /** What {@code --data} must point at. */
    public String dataDescription() {
        return data;
    }

    public boolean needsData() {
        return this != BASELINES;
    }

    /** By CLI name or number. */
    public static ReproductionTarget parse(String s) {
        for (ReproductionTarget t : values()) {
            if (t.cliName.equals(s) || Integer.toString(t.number).equals(s)) {
                return t;
            }
        }
        throw MoescopeException.usage("unknown reproduction target '" + s + "'; one of " + names());
    }

    public static String names() {
        return Arrays.stream(values()).map(t -> t.cliName).collect(Collectors.joining(", "));
    }

    /**
     * Runs the target. {@code data} as {@link #dataDescription()}; {@code reference} (targets 1 and 2 only, may be
     * null) a folder of {@code <counts>.metrics.json} numpy recomputations to compare every figure with.
     */
    public Reproduction run(Path data, Path reference) {
        if (needsData()) {
            if (data == null) {
                throw MoescopeException.usage("target " + cliName + " needs --data: " + this.data);
            }
            if (!Files.exists(data)) {
                throw MoescopeException.badInput(data, "not found (--data: " + this.data + ")");
            }
        }
        if (reference != null && this != DEEPSEEK_ROUTING && this != OLMOE_ROUTING) {
            throw MoescopeException.usage("--reference applies to deepseek-routing and olmoe-routing only");
        }
        return switch (this) {
            case DEEPSEEK_ROUTING -> RoutingCountsReproduction.deepseek(data, reference);
            case OLMOE_ROUTING -> RoutingCountsReproduction.olmoe(data, reference);
            case LENS_PERPLEXITY -> LensPerplexityReproduction.run(data);
            case LENS_COSINE -> LensCosineReproduction.run(data);
            case BASELINES -> UniformBaselines.run();
        };
    }
}
