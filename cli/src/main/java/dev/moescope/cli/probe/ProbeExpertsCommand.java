package dev.moescope.cli.probe;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.moescope.cli.CommonOptions;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.Require;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.probe.capture.CorpusProbe;
import dev.moescope.probe.corpus.TextTokenizer;
import dev.moescope.probe.expert.ExpertProbe;
import dev.moescope.probe.expert.ExpertReportWriter;
import dev.moescope.probe.expert.ExpertSidecar;
import dev.moescope.probe.graph.ModelFiles;
import dev.moescope.probe.graph.ProbeDetector;
import dev.moescope.probe.graph.ProbeSpec;
import dev.moescope.probe.run.Device;
import dev.moescope.probe.run.OrtRunner;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code moescope probe experts}: single-expert approximation and per-expert logit lens over a corpus. */
@Command(name = "experts",
        mixinStandardHelpOptions = true,
        description = {
            "Single-expert approximation and per-expert logit lens (MoE Lens, done right).",
            "Recomputes every token's chosen experts in Java from the weights the export sidecar "
                    + "names, and checks that their weighted sum equals the model's MoE output.",
            "Reports per layer and domain the cosine between the layer output H^k and the top expert "
                    + "alone H1 (raw weight, renormalised, its mixture weight, and MoE Lens's released "
                    + "definition), and how often H1 and H^k decode to the same top-1 token through the model's"
                    + " own final norm and unembedding."},
        footer = {"", "Example:",
            "  moescope probe experts model.onnx --tokenizer tokenizer.json \\",
            "      --corpus corpus.jsonl --seq-len 128 --max-tokens 20000 --out runs/experts",
            "",
            "Needs the export sidecar moescope-export.json (checkpoint-probe/export) beside MODEL or --sidecar.",
            "Edited models are opened from memory, never written; their external data resolves beside MODEL."})
public final class ProbeExpertsCommand implements Callable<Integer> {

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

    @Option(names = "--sidecar", paramLabel = "FILE",
            description = "Export sidecar naming the expert weights (default: moescope-export.json beside MODEL).")
    Path sidecar;

    @Option(names = "--spec", paramLabel = "FILE",
            description = "Probe spec JSON instead of detection (see 'probe inspect');"
            + " a layer may name its MoE block input as hook 'moe_in'.")
    Path specFile;

    @Option(names = "--expert-cache-mb", defaultValue = "512", paramLabel = "MB",
            description = "Memory for expert weights kept between batches, in MiB (default: ${DEFAULT-VALUE}).")
    int cacheMb;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEV",
            description = "cpu, cuda, cuda:N or auto (CUDA if it loads, else CPU) (default: ${DEFAULT-VALUE}).")
    String device;

    @Override
    public Integer call() {
        Require.positive("--expert-cache-mb", cacheMb);
        Path sidecarFile = sidecar != null ? sidecar : ExpertSidecar.besideModel(model);
        Provenance.Builder prov = corpus.record(Provenance.start("probe experts").parameter("model", model)
                .parameter("sidecar", sidecarFile)).parameter("seed", common.seed).parameter("expert-cache-mb", cacheMb);
        Device dev = Device.parse(device);
        prov.parameter("device", dev);
        ModelProto proto = ModelFiles.load(model);
        ProbeSpec probe = specFile != null ? ProbeSpec.read(specFile, proto) : ProbeDetector.detect(proto, model);
        PrintWriter w = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        CorpusProbe.Result result;
        ExpertProbe.Report report;
        String deviceUsed;
        String deviceNote;
        try (TextTokenizer tok = corpus.openTokenizer(w);
             ExpertProbe experts = ExpertProbe.open(model, proto, probe, sidecarFile,
                     new OrtRunner.Config(model, dev, common.threads, null),
                     new ExpertProbe.Config(common.threads, (long) cacheMb << 20))) {
            tok.checkFits(ProbeDetector.embeddingRows(proto), model);
            result = CorpusProbe.forEachBatch(corpus.corpus, corpus.readOptions(), tok, corpus.batchOptions(),
                    experts::accept);
            if (result.tokens() == 0) {
                throw MoescopeException.badInput(corpus.corpus, "the corpus produced no tokens");
            }
            report = experts.report();
            deviceUsed = experts.deviceUsed();
            deviceNote = experts.deviceNote();
        }
        prov.input(model).input(sidecarFile).input(corpus.tokenizer).input(corpus.corpus);
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("device", deviceUsed);
        extra.put("deviceNote", deviceNote);
        extra.put("documents", result.documents());
        extra.put("tokens", result.tokens());
        extra.put("seconds", result.seconds());
        extra.put("layers", probe.layers().size());
        ExpertReportWriter.write(out, report, prov.build(), extra);

        if (!deviceNote.isEmpty()) {
            err.println("moescope: " + deviceNote);
        }
        w.printf(Locale.ROOT, "%d documents, %d tokens, %d MoE layers, gating %s (the model's own top-1 is %s)%n",
                result.documents(), result.tokens(), probe.layers().size(), report.gating(), report.modelTop1Variant());
        StringBuilder check = new StringBuilder("recomputed sum w_i E_i(x) vs moe_out, max |diff| by layer:");
        report.layers().forEach(l -> check.append(String.format(Locale.ROOT, " %d:%.2g", l.layer(), l.recomputeMaxAbsDiff())));
        w.println(report.sharedExperts() > 0 ? "shared experts: their output is taken as moe_out - routed sum "
                + "(no independent check)" : check.toString());
        for (String v : report.variantDefinitions().keySet()) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "cos(H1, ref) %-14s", v));
            report.cosine().stream().filter(c -> c.variant().equals(v) && c.domain().equals(ExpertProbe.ALL)
                            && c.scope().equals(ExpertProbe.ALL_TOKENS))
                    .forEach(c -> line.append(String.format(Locale.ROOT, " %d:%.4f", c.layer(), c.meanCosine())));
            w.println(line);
        }
        Map<String, StringBuilder> lensLines = new LinkedHashMap<>();
        for (ExpertProbe.LensAgreement a : report.lens()) {
            if (a.domain().equals(ExpertProbe.ALL)) {
                String label = a.expertRank() == 1 ? a.variant() : "rank " + a.expertRank() + " (w_r)";
                lensLines.computeIfAbsent(label, z -> new StringBuilder(String.format(Locale.ROOT,
                        "lens top-1 = H^k's %-14s", z))).append(String.format(Locale.ROOT, " %d:%.3f", a.layer(),
                        a.withLayerOutput()));
            }
        }
        lensLines.values().forEach(w::println);
        w.printf(Locale.ROOT, "last layer lens vs model logits: max |diff| %.3g%n", report.lastLayerLensMaxAbsDiff());
        w.println("wrote " + out.resolve("summary.json"));
        return 0;
    }
}
