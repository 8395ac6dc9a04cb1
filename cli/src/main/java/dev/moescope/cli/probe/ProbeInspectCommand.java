package dev.moescope.cli.probe;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.moescope.cli.CommonOptions;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.probe.gating.GatingConfig;
import dev.moescope.probe.graph.ModelFiles;
import dev.moescope.probe.graph.ProbeDetector;
import dev.moescope.probe.graph.ProbeSpec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code moescope probe inspect MODEL}: what the probe would capture from an ONNX model, as an editable spec. */
@Command(name = "inspect",
        mixinStandardHelpOptions = true,
        description = {
            "Find the router logits, residual stream and MoE output of every MoE layer in an ONNX "
                    + "model.",
            "Detection works from the graph's structure, or from blocks.<L>.<hook> outputs; the "
                    + "result is printed as a JSON probe spec.",
            "Edit it and pass it back with --spec if detection is wrong."},
        footer = {"", "Example:",
            "  moescope probe inspect model.onnx > spec.json",
            "  moescope probe inspect model.onnx --spec spec.json --out runs/inspect"})
public final class ProbeInspectCommand implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL",
            description = "The .onnx file (external data beside it is not read).")
    Path model;

    @Option(names = "--spec", paramLabel = "FILE",
            description = "A probe spec JSON to use instead of detection; checked against the model's tensors.")
    Path specFile;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Also write probe-spec.json and summary.json (with provenance) into DIR.")
    Path out;

    @Override
    public Integer call() {
        Provenance.Builder prov = Provenance.start("probe inspect").parameter("model", model);
        ModelProto proto = ModelFiles.load(model);
        ProbeSpec result;
        if (specFile != null) {
            result = ProbeSpec.read(specFile, proto);
            prov.parameter("spec", specFile);
        } else {
            result = ProbeDetector.detect(proto, model);
        }
        spec.commandLine().getOut().println(result.toJson());
        // The spec's "gating" is the graph's own guess; probe run prefers an export sidecar beside the model, so say
        // which one will be used when they differ (a renormalising gate looks like plain top-k in some graphs).
        String effective = effectiveGating(result);
        if (effective != null && !effective.equals(result.gating())) {
            spec.commandLine().getErr().println("gating: probe run will use " + effective + " from "
                    + GatingConfig.SIDECAR + " (the graph alone suggests " + result.gating() + ")");
        }
        if (out != null) {
            prov.input(model);
            if (specFile != null) {
                prov.input(specFile);
            }
            Json.write(out.resolve("probe-spec.json"), result);
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("provenance", prov.build());
            summary.put("layers", result.layers().size());
            summary.put("numExperts", result.numExperts());
            summary.put("gating", effective != null ? effective : result.gating());
            summary.put("graphGating", result.gating());
            summary.put("topKSites", result.topK().size());
            summary.put("source", result.source());
            Json.write(out.resolve("summary.json"), summary);
        }
        return 0;
    }

    /** The gating probe run would use with no --gating: the sidecar's if one describes it, else the graph's guess. */
    private String effectiveGating(ProbeSpec result) {
        if (!java.nio.file.Files.isRegularFile(model.toAbsolutePath().resolveSibling(GatingConfig.SIDECAR))) {
            return result.gating();
        }
        return GatingConfig.forModel(null, model, result.gating(), result.numExperts()).describe();
    }
}
