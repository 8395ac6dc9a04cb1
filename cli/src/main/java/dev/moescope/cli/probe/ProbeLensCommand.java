package dev.moescope.cli.probe;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.moescope.cli.CommonOptions;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.probe.capture.CorpusProbe;
import dev.moescope.probe.corpus.TextTokenizer;
import dev.moescope.probe.gating.GatingConfig;
import dev.moescope.probe.gating.GatingScheme;
import dev.moescope.probe.graph.ModelFiles;
import dev.moescope.probe.graph.ProbeDetector;
import dev.moescope.probe.graph.ProbeSpec;
import dev.moescope.probe.lens.LensReportWriter;
import dev.moescope.probe.lens.MoeLens;
import dev.moescope.probe.run.Device;
import dev.moescope.probe.run.OrtRunner;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code moescope probe lens}: MoE Lens done right — top-k sweep and logit lens over a corpus. */
@Command(name = "lens",
        mixinStandardHelpOptions = true,
        description = {
            "MoE Lens, done right: a top-k sweep of perplexity and residual similarity, and a logit "
                    + "lens.",
            "Runs the model with every TopK's k overridden (k = 1..K) and reports per-domain "
                    + "perplexity and the per-layer cosine similarity of the residual stream against the full-k"
                    + " run.",
            "The logit lens feeds each layer's residual through the model's own final norm (with its "
                    + "learned scale) and unembedding. The last layer's lens reproduces the model's logits "
                    + "(reported as a check)."},
        footer = {"", "Example:",
            "  moescope probe lens model.onnx --tokenizer tokenizer.json \\",
            "      --corpus corpus.jsonl --k 1,2 --seq-len 128 --max-tokens 20000 \\",
            "      --out runs/lens",
            "",
            "Edited models are opened from memory, never written; their external data resolves beside MODEL."})
public final class ProbeLensCommand implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Mixin
    CorpusOptions corpus;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "The .onnx model (a decoder with a 'logits' output).")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--k", split = ",", paramLabel = "K",
            description = "k values to sweep (default: 1..the model's k).")
    List<Integer> ks;

    @Option(names = "--spec", paramLabel = "FILE",
            description = "Probe spec JSON instead of detection (see 'probe inspect').")
    Path specFile;

    @Option(names = "--gating", paramLabel = "SCHEME",
            description = "The model's gating, e.g. mixtral or softmax-topk:k=8 (default: what the graph shows).")
    String gating;

    @Option(names = "--both-variants",
            description = "Also sweep each k with the other expert weighting (raw <-> renormalised top-k weights).")
    boolean bothVariants;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEV",
            description = "cpu, cuda, cuda:N or auto (CUDA if it loads, else CPU) (default: ${DEFAULT-VALUE}).")
    String device;

    @Override
    public Integer call() {
        Provenance.Builder prov = corpus.record(Provenance.start("probe lens").parameter("model", model))
                .parameter("seed", common.seed);
        Device dev = Device.parse(device);
        ModelProto proto = ModelFiles.load(model);
        ProbeSpec probe = specFile != null ? ProbeSpec.read(specFile, proto) : ProbeDetector.detect(proto, model);
        String gatingText = gating != null ? gating : probe.gating();
        Boolean renormalising = null;
        if (gatingText != null) {
            GatingConfig g = GatingConfig.parse(gatingText, probe.numExperts());
            renormalising = g.scheme() == GatingScheme.SOFTMAX_TOPK_RENORM || g.scheme() == GatingScheme.TOPK_SOFTMAX
                    || g.normalize();
        }
        int fullK = MoeLens.graphK(probe, model);
        List<Integer> sweep = ks;
        if (sweep == null || sweep.isEmpty()) {
            sweep = new ArrayList<>();
            for (int k = 1; k <= fullK; k++) {
                sweep.add(k);
            }
        }
        prov.parameter("k", sweep).parameter("gating", gatingText).parameter("device", dev)
                .parameter("both-variants", bothVariants);
        PrintWriter w = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        CorpusProbe.Result result;
        MoeLens.Report report;
        String deviceUsed;
        String deviceNote;
        try (TextTokenizer tok = corpus.openTokenizer(w);
             MoeLens lens = MoeLens.open(model, proto, probe, sweep,
                     new OrtRunner.Config(model, dev, common.threads, null), renormalising, bothVariants)) {
            tok.checkFits(ProbeDetector.embeddingRows(proto), model);
            result = CorpusProbe.forEachBatch(corpus.corpus, corpus.readOptions(), tok, corpus.batchOptions(), lens::accept);
            report = lens.report(renormalising != null && renormalising);
            deviceUsed = lens.deviceUsed();
            deviceNote = lens.deviceNote();
        }
        if (result.tokens() == 0) {
            throw MoescopeException.badInput(corpus.corpus, "the corpus produced no tokens");
        }
        prov.input(model).input(corpus.tokenizer).input(corpus.corpus);
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("device", deviceUsed);
        extra.put("deviceNote", deviceNote);
        extra.put("gating", gatingText);
        extra.put("singleExpertVariantKnown", renormalising != null);
        extra.put("documents", result.documents());
        extra.put("tokens", result.tokens());
        extra.put("seconds", result.seconds());
        extra.put("layers", probe.layers().size());
        LensReportWriter.write(out, report, prov.build(), extra);

        if (!deviceNote.isEmpty()) {
            err.println("moescope: " + deviceNote);
        }
        w.printf(Locale.ROOT, "%d documents, %d tokens, %d MoE layers, model k = %d (%s)%n", result.documents(),
                result.tokens(), probe.layers().size(), report.fullK(),
                renormalising == null ? "gating unknown" : report.singleExpertVariant());
        for (MoeLens.Perplexity p : report.perplexity()) {
            if (p.domain().equals("all")) {
                w.printf(Locale.ROOT, "k=%d %-13s perplexity %.4g  (x%.4f of the model at k=%d)%n", p.k(), p.variant(),
                        p.perplexity(), p.ratioToFullK(), report.fullK());
            }
        }
        StringBuilder lensLine = new StringBuilder("logit lens top-1 agreement by layer:");
        report.logitLens().forEach(l -> lensLine.append(String.format(Locale.ROOT, " %d:%.3f", l.layer(), l.top1Agreement())));
        w.println(lensLine);
        w.printf(Locale.ROOT, "last layer lens vs model logits: max |diff| %.3g%n", report.lastLayerMaxAbsDiff());
        w.println("wrote " + out.resolve("summary.json"));
        return 0;
    }
}
