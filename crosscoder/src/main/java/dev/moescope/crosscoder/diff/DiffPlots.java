package dev.moescope.crosscoder.diff;

import dev.moescope.sae.eval.Density;
import dev.moescope.sae.eval.Plots;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

import java.nio.file.Path;
import java.util.Map;

/** The diff's PNG plots (XChart, headless, written through sae's {@link Plots#save}); histograms drawn as steps. */
final class DiffPlots {

    static final String RELATIVE_NORMS = "relative_norms.png";
    static final String DENSITY = "density_by_class.png";
    static final String COSINE = "decoder_cosine.png";
    static final String EXPERTS = "expert_concentration.png";

    private DiffPlots() {
    }

    /** Histogram of r over the non-designated latents, 100 bins on [0, 1]. */
    static void relativeNorms(ModelDiff.Result r, Path png) {
        double[] rel = r.decoders().r();
        int shared = r.run().shared();
        double[] counts = new double[100];
        int n = 0;
        for (int i = shared; i < rel.length; i++) {
            if (!Double.isNaN(rel[i])) {
                counts[Math.min(99, (int) (rel[i] * 100))]++;
                n++;
            }
        }
        RelativeNorms rules = r.options().rules();
        XYChart c = chart(String.format("Relative decoder norm of %d latents (designated shared excluded); "
                        + "shared band %.2f-%.2f, specific <= %.3f or >= %.3f", n, rules.sharedLow(), rules.sharedHigh(),
                1 - rules.specific(), rules.specific()),
                "r = |d_B| / (|d_A| + |d_B|)  (0: only " + r.sourceModels().get(0) + ", 1: only "
                        + r.sourceModels().get(1) + ")", "latents per bin (width 0.01)");
        step(c, "latents", 0, 0.01, counts);
        c.getStyler().setLegendVisible(false);
        Plots.save(c, png);
    }

    /** Log10 activation-density histograms, one step line per non-empty class, on the classes' shared bins. */
    static void densityByClass(ModelDiff.Result r, Map<LatentClass, ClassStats> stats, Path png) {
        XYChart c = chart(String.format("Activation density by latent class (%d tokens; dead latents not shown)",
                        r.activity().tokens()),
                "log10 activation density (fraction of tokens on which the latent fires)", "live latents per bin");
        for (LatentClass k : LatentClass.values()) {
            ClassStats s = stats.get(k);
            if (s.density() == null || s.live() == 0) {
                continue;
            }
            Density d = s.density();
            double[] y = new double[d.counts().length];
            for (int i = 0; i < y.length; i++) {
                y[i] = d.counts()[i];
            }
            step(c, k, DiffReport.label(r, k) + " (" + s.live() + ")", d.binLowerEdges()[0], d.binWidth(), y);
        }
        Plots.save(c, png);
    }

    /** Histograms of the decoder cosine between the sources, per class (designated shared excluded: all at 1). */
    static void cosine(ModelDiff.Result r, Path png) {
        XYChart c = chart("Decoder cosine, " + r.sourceModels().get(0) + " vs " + r.sourceModels().get(1)
                        + ", by class (designated shared excluded)",
                "cos(d_A, d_B)", "latents per bin (width 0.05)");
        for (LatentClass k : LatentClass.values()) {
            if (k == LatentClass.SHARED_DESIGNATED) {
                continue;
            }
            double[] counts = new double[40];
            int n = 0;
            for (int i = 0; i < r.decoders().cosine().length; i++) {
                double v = r.decoders().cosine()[i];
                if (r.decoders().classes()[i] == k && !Double.isNaN(v)) {
                    counts[Math.max(0, Math.min(39, (int) ((v + 1) / 0.05)))]++;
                    n++;
                }
            }
            if (n > 0) {
                step(c, k, DiffReport.label(r, k) + " (" + n + ")", -1, 0.05, counts);
            }
        }
        Plots.save(c, png);
    }

    /** Histograms of the expert concentration (KL from the base routing, bits) per class. */
    static void experts(ModelDiff.Result r, Path png) {
        ExpertContext e = r.experts();
        double max = 0.1;
        for (int i = 0; i < r.decoders().classes().length; i++) {
            if (r.activity().fires()[i] >= ExpertContext.MIN_FIRES) {
                max = Math.max(max, e.profile(i, 1).klBits());
            }
        }
        double width = max * 1.05 / 40;
        XYChart c = chart(String.format("Expert concentration at MoE layer %d of %s, latents firing >= %d times",
                        e.layer(), r.sourceModels().get(r.moeSource()), ExpertContext.MIN_FIRES),
                "KL(expert distribution on the latent's tokens || base rate)  [bits]", "latents per bin");
        for (LatentClass k : LatentClass.values()) {
            double[] counts = new double[40];
            int n = 0;
            for (int i = 0; i < r.decoders().classes().length; i++) {
                if (r.decoders().classes()[i] != k || r.activity().fires()[i] < ExpertContext.MIN_FIRES) {
                    continue;
                }
                double kl = e.profile(i, 1).klBits();
                counts[Math.max(0, Math.min(39, (int) (kl / width)))]++;
                n++;
            }
            if (n > 0) {
                step(c, k, DiffReport.label(r, k) + " (" + n + ")", 0, width, counts);
            }
        }
        Plots.save(c, png);
    }

    private static XYChart chart(String title, String x, String y) {
        XYChart c = new XYChartBuilder().width(1000).height(560).title(title).xAxisTitle(x).yAxisTitle(y).build();
        c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Step);
        c.getStyler().setMarkerSize(0);
        c.getStyler().setChartTitleFont(c.getStyler().getChartTitleFont().deriveFont(13f));
        return c;
    }

    /** One colour per class in every plot. */
    private static java.awt.Color colour(LatentClass k) {
        return switch (k) {
            case SHARED_DESIGNATED -> new java.awt.Color(0x1f77b4);
            case SHARED -> new java.awt.Color(0x2ca02c);
            case A_SPECIFIC -> new java.awt.Color(0xd62728);
            case B_SPECIFIC -> new java.awt.Color(0x9467bd);
            case OTHER -> new java.awt.Color(0x7f7f7f);
        };
    }

    /** As {@link #step(XYChart, String, double, double, double[])}, in the class's colour. */
    private static void step(XYChart c, LatentClass k, String name, double lo, double width, double[] counts) {
        step(c, name, lo, width, counts).setLineColor(colour(k));
    }

    /** A histogram as a step line: bin i spans [lo + i·width, lo + (i+1)·width). */
    private static XYSeries step(XYChart c, String name, double lo, double width, double[] counts) {
        double[] x = new double[counts.length + 1];
        double[] y = new double[counts.length + 1];
        for (int i = 0; i <= counts.length; i++) {
            x[i] = lo + i * width;
            y[i] = counts[Math.min(i, counts.length - 1)];
        }
        return c.addSeries(name, x, y);
    }
}
