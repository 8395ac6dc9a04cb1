package dev.moescope.sae.eval;

import dev.moescope.core.error.MoescopeException;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** PNG plots of an evaluation (XChart, headless). */
public final class Plots {

    private Plots() {
    }

    /** The log10 activation-density histogram of live latents. */
    public static void densityHistogram(Density d, Path png) {
        CategoryChart c = new CategoryChartBuilder().width(800).height(500)
                .title(String.format("Activation density (dead %.1f%%, dense>%.2f %.1f%%)", 100 * d.deadFraction(),
                        d.denseCutoff(), 100 * d.denseFraction()))
                .xAxisTitle("log10 density").yAxisTitle("latents").build();
        List<String> x = new ArrayList<>();
        List<Long> y = new ArrayList<>();
        for (int i = 0; i < d.counts().length; i++) {
            x.add(String.format("%.2f", d.binLowerEdges()[i]));
            y.add(d.counts()[i]);
        }
        c.addSeries("live latents", x, y);
        c.getStyler().setLegendVisible(false);
        c.getStyler().setXAxisLabelRotation(60);
        save(c, png);
    }

    /** Sorted best cosine of each true direction (synthetic data). */
    public static void recoveryCurve(Recovery.Result r, double cutoff, Path png) {
        double[] v = r.maxCosines().clone();
        java.util.Arrays.sort(v);
        double[] idx = new double[v.length];
        double[] cut = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            idx[i] = i;
            cut[i] = cutoff;
        }
        XYChart c = new XYChartBuilder().width(800).height(500)
                .title(String.format("True directions recovered: %.1f%% at cos >= %.2f", 100 * r.fractionRecovered(),
                        cutoff))
                .xAxisTitle("true direction (sorted)").yAxisTitle("best cosine with a decoder row").build();
        c.addSeries("best cosine", idx, v);
        c.addSeries("cut-off", idx, cut);
        save(c, png);
    }

    /** Writes {@code chart} as a PNG at {@code png} (the ".png" suffix is XChart's to add); failures are one line. */
    public static void save(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart, Path png) {
        try {
            String name = png.toString();
            BitmapEncoder.saveBitmap(chart, name.endsWith(".png") ? name.substring(0, name.length() - 4) : name,
                    BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw MoescopeException.failure(png + ": cannot write plot: " + e.getMessage(), e);
        }
    }
}
