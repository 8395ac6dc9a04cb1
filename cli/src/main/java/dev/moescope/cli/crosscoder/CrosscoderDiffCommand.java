package dev.moescope.cli.crosscoder;

import ai.djl.engine.Engine;
import dev.moescope.cli.CommonOptions;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.crosscoder.diff.Claims;
import dev.moescope.crosscoder.diff.CrosscoderRun;
import dev.moescope.crosscoder.diff.DiffReport;
import dev.moescope.crosscoder.diff.LatentClass;
import dev.moescope.crosscoder.diff.ModelDiff;
import dev.moescope.crosscoder.diff.RelativeNorms;
import dev.moescope.store.manifest.Manifest;
import dev.moescope.store.stream.Split;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code moescope crosscoder diff}: how a trained crosscoder's latents split between the MoE and the dense model. */
@Command(name = "diff",
        mixinStandardHelpOptions = true,
        description = {
            "Diff two models with a crosscoder trained by `crosscoder train`.",
            "Per latent: the relative decoder norm r = |d_B|/(|d_A|+|d_B|) and Delta_norm, the "
                    + "decoder cosine, the class (designated shared, emergent shared, A-specific, B-specific, "
                    + "other), the activation density, mean activation, per-domain density and top-activating "
                    + "contexts.",
            "Per class: the density distribution (median, IQR, log10 histogram). Overall: FVE per "
                    + "source and pooled, the dead fraction and, from the MoE store's routing, which experts "
                    + "were active where each latent fires against the base rate.",
            "Streams the paired stores in order (the documents training held out, else every row), "
                    + "encoding every token with the crosscoder's inference threshold.",
            "Writes DIR/summary.json (with the paper's claims and whether this run supports each), "
                    + "latents.csv, classes.csv, contexts.csv/json, relative_norms.png, density_by_class.png, "
                    + "decoder_cosine.png, expert_concentration.png (with routing) and report.md."},
        footer = {"", "Example:",
                "  moescope crosscoder train --store stores/moe --store stores/dense \\",
                "      --hook blocks.2.resid_post --hook blocks.2.resid_post \\",
                "      --latents 768 --k 16 --shared 32 --batch 1024 --steps 2000 --out runs/cc",
                "  moescope crosscoder diff runs/cc --out runs/cc/diff",
                "",
                "Bad input (exit 3, one line naming the file): a missing or corrupt run, stores of different "
                        + "tokenizers or token streams or row counts, a hook whose width does not match the crosscoder."})
public final class CrosscoderDiffCommand implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RUN", description = "A run directory written by `crosscoder train`.")
    Path run;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--store", paramLabel = "DIR", description = "A store per crosscoder source, in source order "
            + "(default: the stores the run was trained on).")
    List<Path> stores = new ArrayList<>();

    @Option(names = "--hook", paramLabel = "HOOK", description = "The hook of each --store (default: the run's).")
    List<String> hooks = new ArrayList<>();

    @Option(names = "--split", paramLabel = "SPLIT", description = "Documents to read: VALIDATION (those training "
            + "held out) or ALL (default: VALIDATION when training held documents out, else ALL).")
    Split split;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "0",
            description = "Stop after N tokens (default: 0, all).")
    long maxTokens;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "1024",
            description = "Rows per encoding batch, also the batch of the batch top-k comparison (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--contexts", paramLabel = "N", defaultValue = "5",
            description = "Top-activating contexts kept per latent, 0 for none (default: ${DEFAULT-VALUE}).")
    int contexts;

    @Option(names = "--shared-low", paramLabel = "R", defaultValue = "0.3",
            description = "Shared if shared-low < r < shared-high (default: ${DEFAULT-VALUE}, ckkissane/Anthropic).")
    double sharedLow;

    @Option(names = "--shared-high", paramLabel = "R", defaultValue = "0.7",
            description = "Upper edge of the shared band (default: ${DEFAULT-VALUE}).")
    double sharedHigh;

    @Option(names = "--specific", paramLabel = "R", defaultValue = "0.8333333333333334",
            description = "A-specific if r <= 1 - R, B-specific if r >= R (default: 5/6, i.e. Delta_norm >= 0.9 as "
                    + "in Minder et al. and the paper code).")
    double specific;

    @Option(names = "--routing-layer", paramLabel = "L", defaultValue = "-1",
            description = "MoE layer of the routing context (default: the MoE hook's layer if routed, else the last "
                    + "routed layer).")
    int routingLayer;

    @Option(names = "--dense-cutoff", paramLabel = "P", defaultValue = "0.1",
            description = "Density above which a latent counts as dense (default: ${DEFAULT-VALUE}).")
    double denseCutoff;

    @Override
    public Integer call() {
        CrosscoderRun cc = CrosscoderRun.open(run);
        List<Path> s = ModelDiff.storesOf(cc, stores);
        List<String> h = ModelDiff.hooksOf(cc, hooks, s.size());
        ModelDiff.Options o = new ModelDiff.Options(s, h, split, maxTokens, batch, contexts,
                new RelativeNorms(sharedLow, sharedHigh, specific), routingLayer, denseCutoff);
        Provenance.Builder prov = Provenance.start("crosscoder diff").parameter("seed", common.seed)
                .parameter("threads", common.threads).parameter("run", run.toAbsolutePath())
                .parameter("split", split == null ? "auto" : split.name()).parameter("max_tokens", maxTokens)
                .parameter("batch", batch).parameter("contexts", contexts).parameter("shared_low", sharedLow)
                .parameter("shared_high", sharedHigh).parameter("specific", specific)
                .parameter("routing_layer", routingLayer).parameter("dense_cutoff", denseCutoff)
                .input(run.resolve(CrosscoderRun.WEIGHTS)).input(run.resolve(CrosscoderRun.CONFIG));
        for (int i = 0; i < s.size(); i++) {
            prov.parameter("store." + i, s.get(i).toAbsolutePath()).parameter("hook." + i, h.get(i));
        }
        Engine engine = DjlRuntime.pytorch(common.threads);
        ModelDiff.Result r = ModelDiff.run(engine, cc, o, common.threads);
        for (Path store : s) {
            prov.input(store.resolve(Manifest.FILE_NAME));
        }
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw MoescopeException.failure("cannot create " + out + ": " + e.getMessage(), e);
        }
        Map<String, Object> summary = DiffReport.write(out, r, prov.build().finishedNow());
        print(r, summary);
        return 0;
    }

    @SuppressWarnings("unchecked")
    private void print(ModelDiff.Result r, Map<String, Object> summary) {
        PrintWriter o = spec.commandLine().getOut();
        ModelDiff.Reconstruction rec = r.reconstruction();
        o.printf("diffed %d %stokens: FVE pooled %.4f (%s %.4f, %s %.4f), L0 %.1f, dead %.1f%%%n",
                r.activity().tokens(), r.split() == Split.VALIDATION ? "held-out " : "", rec.fvePooledThreshold(),
                r.sourceModels().get(0), rec.fveThreshold()[0], r.sourceModels().get(1), rec.fveThreshold()[1],
                rec.l0Threshold(), 100 * (double) summary.get("dead_fraction"));
        Map<String, Object> counts = (Map<String, Object>) summary.get("counts");
        StringBuilder b = new StringBuilder();
        for (LatentClass c : LatentClass.values()) {
            b.append(b.length() == 0 ? "" : ", ").append(DiffReport.label(r, c)).append(' ').append(counts.get(c.name()));
        }
        o.println("latents: " + b);
        for (Claims.Claim c : (List<Claims.Claim>) summary.get("claims")) {
            o.printf("claim %s: %s%n  measured: %s%n", c.supported() == null ? "not testable"
                    : c.supported() ? "supported" : "not supported", c.claim(), c.measured());
        }
        o.printf("wrote %s (summary.json, latents.csv, classes.csv, report.md, plots)%n", out);
        o.flush();
    }
}
