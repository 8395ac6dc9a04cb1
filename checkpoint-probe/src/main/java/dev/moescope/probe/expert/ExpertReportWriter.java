package dev.moescope.probe.expert;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.AtomicFiles;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes an {@link ExpertProbe.Report}: {@code summary.json} (provenance, the figures with captions, the report),
 * {@code cosine.csv}, {@code lens_agreement.csv}, {@code layers.csv}, and two PNG figures.
 */
public final class ExpertReportWriter {

    /** Per-layer cosine curves per domain, one panel per H¹ variant. */
    public static final String COSINE_PNG = "single_expert_cosine.png";
    /** Per-layer logit-lens agreement of each corrected H¹ with the layer output. */
    public static final String LENS_PNG = "single_expert_lens.png";

    /** A figure and its caption, as listed in summary.json. */
    public record Figure(String file, String caption) {
    }

    private ExpertReportWriter() {
    }

    public static List<Path> write(Path dir, ExpertProbe.Report r, Provenance provenance, Map<String, Object> extra) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw MoescopeException.failure(dir + ": cannot create the output directory: " + e.getMessage(), e);
        }
        List<Path> files = new ArrayList<>();
        StringBuilder cos = new StringBuilder("variant,layer,domain,scope,tokens,mean_cosine\n");
        r.cosine().forEach(c -> cos.append(c.variant()).append(',').append(c.layer()).append(',').append(c.domain())
                .append(',').append(c.scope()).append(',').append(c.tokens()).append(',').append(f(c.meanCosine()))
                .append('\n'));
        files.add(csv(dir.resolve("cosine.csv"), cos));
        StringBuilder lens = new StringBuilder("variant,expert_rank,layer,domain,tokens,"
                + "top1_agreement_with_layer_output,top1_agreement_with_model\n");
        r.lens().forEach(l -> lens.append(l.variant()).append(',').append(l.expertRank()).append(',')
                .append(l.layer()).append(',').append(l.domain())
                .append(',').append(l.tokens()).append(',').append(f(l.withLayerOutput())).append(',')
                .append(f(l.withModel())).append('\n'));
        files.add(csv(dir.resolve("lens_agreement.csv"), lens));
        StringBuilder layers = new StringBuilder("layer,sidecar_layer,tokens,recompute_max_abs_diff,moe_out_max_abs,"
                + "mean_top_weight,mean_top_raw_score\n");
        r.layers().forEach(l -> layers.append(l.layer()).append(',').append(l.sidecarLayer()).append(',')
                .append(l.tokens()).append(',').append(f(l.recomputeMaxAbsDiff())).append(',')
                .append(f(l.moeOutMaxAbs())).append(',').append(f(l.meanTopWeight())).append(',')
                .append(f(l.meanTopRawScore())).append('\n'));
        files.add(csv(dir.resolve("layers.csv"), layers));

        List<Figure> figures = new ArrayList<>();
        files.add(cosineFigure(dir.resolve(COSINE_PNG), r));
        figures.add(new Figure(COSINE_PNG, "Mean cosine similarity between the single-expert approximation H1 and "
                + "its reference, per MoE layer (x) and domain (one curve each, 'all' = every token), one panel per "
                + "H1 definition: raw / renormalised / mixture_weight compare u + w*E1(x) (+ shared) with the "
                + "model's layer output H^k; moe_interp is MoE Lens's released definition (unweighted E1(x) plus "
                + "the post-attention norm output, against the renormalised mixture plus the same), and "
                + "moe_interp_row0 the same with its row-0 bug (each expert's output on the window's first token "
                + "routed to it); expert_only compares E1(x) with the routed mixture, no residual in either. Model top-1 variant: "
                + r.modelTop1Variant() + "; gating " + r.gating() + "; " + r.tokens() + " tokens."));
        files.add(lensFigure(dir.resolve(LENS_PNG), r));
        figures.add(new Figure(LENS_PNG, "Logit lens (the model's final norm with its learned scale, then the "
                + "unembedding) per MoE layer (x): share of tokens whose top-1 token from H1 equals the top-1 "
                + "from the layer output H^k, one curve per corrected H1 definition (the top expert), and one per "
                + "lower-ranked expert r with its mixture weight (u + w_r*E_r(x)), all domains; " + r.tokens()
                + " tokens."));

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("provenance", provenance.finishedNow());
        json.putAll(extra);
        json.put("figures", figures);
        json.put("report", r);
        Path summary = dir.resolve("summary.json");
        Json.write(summary, json);
        files.add(summary);
        return files;
    }

    private static Path cosineFigure(Path file, ExpertProbe.Report r) {
        Map<String, Map<String, List<double[]>>> byVariant = new LinkedHashMap<>();
        r.variantDefinitions().keySet().forEach(v -> byVariant.put(v, new TreeMap<>()));
        for (ExpertProbe.Cosine c : r.cosine()) {
            if (c.scope().equals(ExpertProbe.ALL_TOKENS) && byVariant.containsKey(c.variant())) {
                byVariant.get(c.variant()).computeIfAbsent(c.domain(), d -> new ArrayList<>())
                        .add(new double[]{c.layer(), c.meanCosine()});
            }
        }
        List<XYChart> panels = new ArrayList<>();
        byVariant.forEach((variant, domains) -> {
            XYChart c = new XYChartBuilder().width(640).height(420).title("H1 = " + variant
                            + (variant.equals(r.modelTop1Variant()) ? " (the model's own top-1)" : ""))
                    .xAxisTitle("MoE layer").yAxisTitle("mean cos(H1, reference)").build();
            domains.forEach((domain, pts) -> c.addSeries(domain, pts.stream().mapToDouble(p -> p[0]).toArray(),
                    pts.stream().mapToDouble(p -> p[1]).toArray()));
            if (!domains.isEmpty()) {
                panels.add(c);
            }
        });
        return save(file, panels);
    }

    private static Path lensFigure(Path file, ExpertProbe.Report r) {
        XYChart c = new XYChartBuilder().width(900).height(480)
                .title("Logit lens: top-1 of H1 = top-1 of the layer output")
                .xAxisTitle("MoE layer").yAxisTitle("top-1 agreement (share of tokens)").build();
        Map<String, List<double[]>> byVariant = new LinkedHashMap<>();
        for (ExpertProbe.LensAgreement a : r.lens()) {
            if (a.domain().equals(ExpertProbe.ALL)) {
                String label = a.expertRank() == 1 ? a.variant() : "expert rank " + a.expertRank() + " (mixture weight)";
                byVariant.computeIfAbsent(label, v -> new ArrayList<>()).add(new double[]{a.layer(), a.withLayerOutput()});
            }
        }
        byVariant.forEach((v, pts) -> c.addSeries(v, pts.stream().mapToDouble(p -> p[0]).toArray(),
                pts.stream().mapToDouble(p -> p[1]).toArray()));
        return save(file, byVariant.isEmpty() ? List.of() : List.of(c));
    }

    /** Draws the panels on a grid of two columns into one PNG, written atomically. */
    private static Path save(Path file, List<XYChart> panels) {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        try {
            BufferedImage out;
            if (panels.isEmpty()) {
                out = BitmapEncoder.getBufferedImage(new XYChartBuilder().width(400).height(200).title("no data").build());
            } else {
                int w = panels.get(0).getWidth();
                int h = panels.get(0).getHeight();
                int cols = panels.size() == 1 ? 1 : 2;
                int rows = (panels.size() + cols - 1) / cols;
                out = new BufferedImage(w * cols, h * rows, BufferedImage.TYPE_INT_RGB);
                Graphics2D g = out.createGraphics();
                g.setColor(Color.WHITE);
                g.fillRect(0, 0, out.getWidth(), out.getHeight());
                for (int i = 0; i < panels.size(); i++) {
                    g.drawImage(BitmapEncoder.getBufferedImage(panels.get(i)), (i % cols) * w, (i / cols) * h, null);
                }
                g.dispose();
            }
            Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp.png");
            if (!ImageIO.write(out, "png", tmp.toFile())) {
                throw new IOException("no PNG writer");
            }
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
