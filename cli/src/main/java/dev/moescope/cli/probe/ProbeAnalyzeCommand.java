package dev.moescope.cli.probe;

import dev.moescope.cli.CommonOptions;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.probe.analysis.ReportWriter;
import dev.moescope.probe.analysis.RoutingAgreement;
import dev.moescope.probe.analysis.RoutingAnalysis;
import dev.moescope.probe.analysis.StoreRouting;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.manifest.Manifest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code moescope probe analyze STORE}: routing statistics of a store written by {@code probe run}. */
@Command(name = "analyze",
        mixinStandardHelpOptions = true,
        description = {
            "Analyse a store's routing: expert load and balance, specialisation, co-activation.",
            "Per layer, per domain and overall: expert load and balance (normalised entropy, CV, "
                    + "max/mean, experts covering 50 %%, largest share), OLMoE domain and vocabulary "
                    + "specialisation, co-activation (all-pairs and OLMoE adjacent-rank), Mixtral consecutive-"
                    + "token rates vs 1/E, and router confidence when full logits were recorded.",
            "--compare adds routing agreement with a second store on the same tokens. Writes "
                    + "summary.json, CSVs and PNG charts."},
        footer = {"", "Example:",
            "  moescope probe analyze runs/moe-store --out runs/moe-analysis",
            "  moescope probe analyze runs/moe-store --compare runs/moe-fp16-store \\",
            "      --out runs/agreement"})
public final class ProbeAnalyzeCommand implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STORE", description = "Store directory written by 'probe run'.")
    Path store;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--compare", paramLabel = "STORE2",
            description = "A second store on the same tokens (another checkpoint, fp16 vs fp32): routing agreement.")
    Path compare;

    @Option(names = "--vocab-min-count", defaultValue = "10", paramLabel = "N",
            description = "Token ids seen fewer times are left out of vocabulary specialisation (OLMoE: 10; default: ${DEFAULT-VALUE}).")
    int vocabMinCount;

    @Override
    public Integer call() throws IOException {
        Provenance.Builder prov = Provenance.start("probe analyze").parameter("store", store)
                .parameter("compare", compare).parameter("vocab-min-count", vocabMinCount);
        RoutingAnalysis analysis;
        Map<String, Object> extra = new LinkedHashMap<>();
        List<String[]> agreementRows = new ArrayList<>();
        try (ActivationStore s = ActivationStore.open(store)) {
            prov.input(store.resolve(Manifest.FILE_NAME));
            analysis = StoreRouting.analyse(s, vocabMinCount);
            extra.put("store", Map.of("rows", s.rows(), "documents", s.documents(), "model", s.model().toString()));
            if (compare != null) {
                try (ActivationStore b = ActivationStore.open(compare)) {
                    prov.input(compare.resolve(Manifest.FILE_NAME));
                    RoutingAgreement agreement = StoreRouting.compare(s, b);
                    List<Map<String, Object>> layers = new ArrayList<>();
                    for (int layer : agreement.layers()) {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("layer", layer);
                        m.put("tokens", agreement.tokens(layer));
                        m.put("top1Agreement", agreement.top1Agreement(layer));
                        m.put("meanJaccard", agreement.meanJaccard(layer));
                        m.put("saturation", agreement.saturation(layer));
                        layers.add(m);
                        agreementRows.add(new String[]{Integer.toString(layer), Long.toString(agreement.tokens(layer)),
                                fmt(agreement.top1Agreement(layer)), fmt(agreement.meanJaccard(layer)),
                                fmt(agreement.saturation(layer))});
                    }
                    extra.put("agreement", Map.of("with", compare.toString(), "definition",
                            "top1Agreement: same first choice; meanJaccard: |A∩B|/|A∪B| of top-k sets; saturation"
                                    + " (OLMoE): |A∩B|/k", "layers", layers));
                }
            }
        }
        if (!agreementRows.isEmpty()) {
            Files.createDirectories(out);
            StringBuilder csv = new StringBuilder("layer,tokens,top1_agreement,mean_jaccard,saturation\n");
            agreementRows.forEach(r -> csv.append(String.join(",", r)).append('\n'));
            Files.writeString(out.resolve("agreement.csv"), csv);
        }
        ReportWriter.write(out, analysis, prov.build(), List.of(), extra);

        PrintWriter w = spec.commandLine().getOut();
        RoutingAnalysis.Summary sum = analysis.summary();
        w.printf(Locale.ROOT, "%d MoE layers, E=%d, k=%d, uniform share k/E = %.3f%n", sum.layers().size(),
                sum.numExperts(), sum.topK(), sum.uniformShare());
        for (RoutingAnalysis.LayerSummary l : sum.layers()) {
            w.printf(Locale.ROOT, "layer %d: %d tokens, load entropy %.3f, largest share %.3f, CV %.3f%n", l.layer(),
                    l.load().tokens(), l.load().normalizedEntropy(), l.load().largestShare(),
                    l.load().coefficientOfVariation());
        }
        for (RoutingAnalysis.DomainSummary d : sum.domains()) {
            w.printf(Locale.ROOT, "domain %s: %d tokens, max specialisation %.3f (layer %d, expert %d)%n", d.domain(),
                    d.tokens(), d.maxShare(), d.maxShareLayer(), d.maxShareExpert());
        }
        for (String[] r : agreementRows) {
            w.printf(Locale.ROOT, "agreement layer %s: top-1 %s, Jaccard %s%n", r[0], r[2], r[3]);
        }
        w.println("wrote " + out.resolve("summary.json"));
        return 0;
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.6f", v);
    }
}
