package dev.moescope.probe.lens;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.AtomicFiles;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** Writes a {@link MoeLens.Report}: summary.json, perplexity.csv, cosine.csv, logit_lens.csv and a PNG chart. */
public final class LensReportWriter {

    private LensReportWriter() {
    }

    public static List<Path> write(Path dir, MoeLens.Report r, Provenance provenance, Map<String, Object> extra) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw MoescopeException.failure(dir + ": cannot create the output directory: " + e.getMessage(), e);
        }
        List<Path> files = new ArrayList<>();
        StringBuilder ppl = new StringBuilder("k,variant,domain,tokens,perplexity,sample_geomean_perplexity,ratio_to_full_k\n");
        for (MoeLens.Perplexity p : r.perplexity()) {
            ppl.append(p.k()).append(',').append(p.variant()).append(',').append(p.domain()).append(',').append(p.tokens()).append(',')
                    .append(f(p.perplexity())).append(',').append(f(p.sampleGeoMean())).append(',')
                    .append(f(p.ratioToFullK())).append('\n');
        }
        files.add(csv(dir.resolve("perplexity.csv"), ppl));
        StringBuilder cos = new StringBuilder("k,variant,layer,mean_cosine_vs_full_k\n");
        r.cosine().forEach(c -> cos.append(c.k()).append(',').append(c.variant()).append(',').append(c.layer()).append(',').append(f(c.meanCosine())).append('\n'));
        files.add(csv(dir.resolve("cosine.csv"), cos));
        StringBuilder lens = new StringBuilder("layer,top1_agreement_with_model\n");
        r.logitLens().forEach(l -> lens.append(l.layer()).append(',').append(f(l.top1Agreement())).append('\n'));
        files.add(csv(dir.resolve("logit_lens.csv"), lens));
        files.add(chart(dir.resolve("cosine_and_lens_by_layer.png"), r));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("provenance", provenance.finishedNow());
        json.putAll(extra);
        json.put("report", r);
        Path summary = dir.resolve("summary.json");
        Json.write(summary, json);
        files.add(summary);
        return files;
    }

    private static Path chart(Path file, MoeLens.Report r) {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        XYChart c = new XYChartBuilder().width(900).height(500)
                .title("Residual cosine vs full k=" + r.fullK() + ", and logit-lens top-1 agreement")
                .xAxisTitle("layer").yAxisTitle("value").build();
        Map<String, List<double[]>> byK = new TreeMap<>();
        r.cosine().forEach(x -> byK.computeIfAbsent("cosine k=" + x.k() + (x.variant().equals(MoeLens.MODEL) ? ""
                : " " + x.variant()), k -> new ArrayList<>()).add(new double[]{x.layer(), x.meanCosine()}));
        byK.forEach((k, pts) -> c.addSeries(k, pts.stream().mapToDouble(p -> p[0]).toArray(),
                pts.stream().mapToDouble(p -> p[1]).toArray()));
        if (!r.logitLens().isEmpty()) {
            c.addSeries("logit lens top-1 agreement", r.logitLens().stream().mapToDouble(MoeLens.LensLayer::layer).toArray(),
                    r.logitLens().stream().mapToDouble(MoeLens.LensLayer::top1Agreement).toArray());
        }
        try {
            Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp.png");
            BitmapEncoder.saveBitmap(c, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
            AtomicFiles.moveAtomically(tmp, file);
            return file;
        } catch (IOException e) {
            throw MoescopeException.failure(file + ": cannot write chart: " + e.getMessage(), e);
        }
    }

    private static Path csv(Path file, StringBuilder body) {
        AtomicFiles.writeString(file, body.toString());
        return file;
    }

    private static String f(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
    }
}
