package dev.moescope.toy.plot;

import dev.moescope.core.error.MoescopeException;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The toy-model figures, each written as a PNG. */
public final class Figures {

    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 14);
    private static final Font LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 11);

    private Figures() {
    }

    /** One row of bars: feature norms coloured by superposition (viridis over [0, colourMax]). */
    public record BarRow(String title, double[] norms, double[] superposition) {
    }

    /**
     * Feature-norm bars coloured by superposition, one row per expert (Figs 1, 2, 6), with a dashed line at index
     * {@code m − 0.5} (the number of hidden dimensions).
     */
    public static void featureBars(Path file, String title, List<BarRow> rows, int hidden) {
        int n = rows.get(0).norms().length;
        int rowH = 120;
        int left = 60;
        int width = Math.max(500, left + 40 + n * Math.max(6, Math.min(24, 900 / n)));
        int height = 50 + rows.size() * (rowH + 30) + 40;
        BufferedImage img = canvas(width, height);
        Graphics2D g = graphics(img);
        g.setFont(TITLE);
        g.drawString(title, left, 25);
        double maxNorm = 0;
        for (BarRow r : rows) {
            for (double v : r.norms()) {
                maxNorm = Math.max(maxNorm, v);
            }
        }
        maxNorm = Math.max(maxNorm, 1e-9);
        double barW = (width - left - 40.0) / n;
        for (int k = 0; k < rows.size(); k++) {
            BarRow r = rows.get(k);
            int top = 50 + k * (rowH + 30);
            int base = top + rowH;
            g.setFont(LABEL);
            g.setColor(Color.BLACK);
            g.drawString(r.title(), left, top - 4);
            g.drawLine(left, base, width - 40, base);
            g.drawString(String.format("%.2f", maxNorm), 5, top + 10);
            g.drawString("0", 40, base);
            for (int i = 0; i < n; i++) {
                int hgt = (int) Math.round(rowH * r.norms()[i] / maxNorm);
                g.setColor(Colours.viridis(r.superposition()[i]));
                g.fillRect((int) (left + i * barW + 1), base - hgt, (int) Math.max(1, barW - 2), hgt);
            }
            if (hidden < n) {
                g.setColor(Color.GRAY);
                g.setStroke(new BasicStroke(1, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {4, 4}, 0));
                int xLine = (int) (left + hidden * barW);
                g.drawLine(xLine, top, xLine, base);
                g.setStroke(new BasicStroke(1));
            }
        }
        colourBar(g, left, height - 30, 200, "superposition 0 .. 1 (viridis)");
        write(img, file);
    }

    private static void colourBar(Graphics2D g, int x, int y, int w, String label) {
        for (int i = 0; i < w; i++) {
            g.setColor(Colours.viridis(i / (double) (w - 1)));
            g.fillRect(x + i, y, 1, 10);
        }
        g.setColor(Color.BLACK);
        g.setFont(LABEL);
        g.drawString(label, x + w + 10, y + 10);
    }

    /** Gram matrices WᵀW side by side, coolwarm on the fixed range [−1, 1]. */
    public static void gramHeatmaps(Path file, String title, List<double[][]> grams, List<String> titles) {
        int n = grams.get(0).length;
        int cell = Math.max(3, Math.min(20, 300 / n));
        int panel = cell * n;
        int width = 20 + grams.size() * (panel + 20);
        int height = 80 + panel;
        BufferedImage img = canvas(Math.max(width, 300), height);
        Graphics2D g = graphics(img);
        g.setFont(TITLE);
        g.drawString(title, 20, 20);
        for (int p = 0; p < grams.size(); p++) {
            int x0 = 20 + p * (panel + 20);
            g.setFont(LABEL);
            g.setColor(Color.BLACK);
            g.drawString(titles.get(p), x0, 45);
            double[][] m = grams.get(p);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    g.setColor(Colours.coolwarm(m[i][j]));
                    g.fillRect(x0 + j * cell, 55 + i * cell, cell, cell);
                }
            }
        }
        write(img, file);
    }

    /** A phase-diagram panel: RGB per cell, rows from dense (top) to sparse. */
    public record PhasePanel(String title, int[][][] rgb) {
    }

    /**
     * Phase diagrams side by side with the 2-D colour legend (y: norm, x: superposition score). Rows are sparsity
     * values (first row drawn at the top), columns importances.
     */
    public static void phaseDiagrams(Path file, String title, List<PhasePanel> panels, String xLabel, String yLabel,
                                     double[] xRange, double[] yRange) {
        int rows = panels.get(0).rgb().length;
        int cols = panels.get(0).rgb()[0].length;
        int cell = Math.max(4, Math.min(16, 240 / Math.max(rows, cols)));
        int pw = cols * cell;
        int ph = rows * cell;
        int perRow = Math.min(panels.size(), 4);
        int gridRows = (panels.size() + perRow - 1) / perRow;
        int width = Math.max(700, 60 + perRow * (pw + 50) + 160);
        int height = 50 + gridRows * (ph + 60);
        BufferedImage img = canvas(width, height);
        Graphics2D g = graphics(img);
        g.setFont(TITLE);
        g.drawString(title, 20, 20);
        for (int p = 0; p < panels.size(); p++) {
            int x0 = 60 + (p % perRow) * (pw + 50);
            int y0 = 50 + (p / perRow) * (ph + 60);
            int[][][] rgb = panels.get(p).rgb();
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    int[] v = rgb[r][c];
                    g.setColor(new Color(v[0], v[1], v[2]));
                    g.fillRect(x0 + c * cell, y0 + r * cell, cell, cell);
                }
            }
            g.setColor(Color.BLACK);
            g.drawRect(x0, y0, pw, ph);
            g.setFont(LABEL);
            g.drawString(panels.get(p).title(), x0, y0 - 5);
            g.drawString(String.format("%s %.2f→%.2f", xLabel, xRange[0], xRange[1]), x0, y0 + ph + 14);
            g.drawString(String.format("%s %.3f↓%.3f", yLabel, yRange[0], yRange[1]), x0, y0 + ph + 28);
        }
        // 2-D legend: y = norm (up), x = superposition (right)
        int lx = width - 140;
        int ly = 60;
        int size = 80;
        for (int i = 0; i < size; i++) {
            for (int j = 0; j < size; j++) {
                double normFrac = 1 - i / (double) (size - 1);
                int[] v = dev.moescope.toy.metrics.PhaseMap.colour(normFrac, j / (double) (size - 1), 1, 1);
                g.setColor(new Color(v[0], v[1], v[2]));
                g.fillRect(lx + j, ly + i, 1, 1);
            }
        }
        g.setColor(Color.BLACK);
        g.drawString("norm ↑", lx, ly - 5);
        g.drawString("superposition →", lx - 10, ly + size + 14);
        write(img, file);
    }

    /**
     * Categorical maps side by side (one colour per category, e.g. the top-1 expert per cell), with a colour key for
     * {@code keyLabel} 0, 1, ….
     */
    public static void categoricalMaps(Path file, String title, List<int[][]> maps, List<String> titles,
                                       String axes) {
        categoricalMaps(file, title, maps, titles, axes, maps.size(), "expert");
    }

    /**
     * As {@link #categoricalMaps(Path, String, List, List, String)}, {@code perRow} maps per row (smaller cells
     * when more than four), and a key naming category c "{@code keyLabel} c".
     */
    public static void categoricalMaps(Path file, String title, List<int[][]> maps, List<String> titles,
                                       String axes, int perRow, String keyLabel) {
        int rows = maps.get(0).length;
        int cols = maps.get(0)[0].length;
        int cell = perRow > 4 ? 1 : Math.max(1, Math.min(4, 250 / Math.max(rows, cols)));
        int pw = cols * cell;
        int ph = rows * cell;
        int panelRows = (maps.size() + perRow - 1) / perRow;
        int categories = 0;
        for (int[][] m : maps) {
            for (int[] row : m) {
                for (int v : row) {
                    categories = Math.max(categories, v + 1);
                }
            }
        }
        int width = Math.max(40 + Math.min(perRow, maps.size()) * (pw + 40), 60 + categories * 90);
        int height = 50 + panelRows * (ph + 40) + 30;
        BufferedImage img = canvas(width, height);
        Graphics2D g = graphics(img);
        g.setFont(TITLE);
        g.drawString(title, 20, 20);
        for (int p = 0; p < maps.size(); p++) {
            int x0 = 40 + (p % perRow) * (pw + 40);
            int y0 = 50 + (p / perRow) * (ph + 40);
            int[][] m = maps.get(p);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    g.setColor(Colours.category(m[r][c]));
                    g.fillRect(x0 + c * cell, y0 + r * cell, cell, cell);
                }
            }
            g.setColor(Color.BLACK);
            g.setFont(LABEL);
            g.drawString(titles.get(p), x0, y0 - 5);
            g.drawString(axes, x0, y0 + ph + 15);
        }
        int ky = height - 15;
        for (int c = 0; c < categories; c++) {
            g.setColor(Colours.category(c));
            g.fillRect(40 + c * 90, ky - 10, 12, 12);
            g.setColor(Color.BLACK);
            g.drawString(keyLabel + " " + c, 56 + c * 90, ky);
        }
        write(img, file);
    }

    /** Feature vectors of m=2 models as arrows from the origin, one panel per instance (TMS intro figure). */
    public static void vectors2d(Path file, String title, List<float[][]> models, List<String> titles) {
        int panel = 160;
        int width = 20 + models.size() * (panel + 10);
        BufferedImage img = canvas(width, panel + 70);
        Graphics2D g = graphics(img);
        g.setFont(TITLE);
        g.drawString(title, 20, 20);
        for (int p = 0; p < models.size(); p++) {
            int cx = 20 + p * (panel + 10) + panel / 2;
            int cy = 45 + panel / 2;
            g.setColor(Color.LIGHT_GRAY);
            g.drawOval(cx - panel / 3, cy - panel / 3, 2 * panel / 3, 2 * panel / 3);
            float[][] w = models.get(p);
            for (int i = 0; i < w.length; i++) {
                g.setColor(Colours.viridis(i / (double) Math.max(1, w.length - 1)));
                g.setStroke(new BasicStroke(2));
                g.drawLine(cx, cy, (int) (cx + w[i][0] * panel / 3), (int) (cy - w[i][1] * panel / 3));
            }
            g.setStroke(new BasicStroke(1));
            g.setColor(Color.BLACK);
            g.setFont(LABEL);
            g.drawString(titles.get(p), cx - panel / 2 + 5, 45 + panel + 15);
        }
        write(img, file);
    }

    /** A line chart; {@code series} maps a name to {x[], y[]}; optional horizontal reference lines. */
    public static void lines(Path file, String title, String xLabel, String yLabel, boolean logX, boolean logY,
                             Map<String, double[][]> series, double[] referenceLines) {
        XYChart chart = new XYChartBuilder().width(800).height(520).title(title).xAxisTitle(xLabel)
                .yAxisTitle(yLabel).build();
        chart.getStyler().setXAxisLogarithmic(logX);
        chart.getStyler().setYAxisLogarithmic(logY);
        // XChart labels only powers of ten on a log axis; a curve spanning less than two decades would then get
        // one label or none, so such an axis is labelled at every 1..9 multiple instead.
        chart.getStyler().setXAxisLogarithmicDecadeOnly(decades(series, 0) >= 2);
        chart.getStyler().setYAxisLogarithmicDecadeOnly(decades(series, 1) >= 2);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        int ci = 0;
        for (Map.Entry<String, double[][]> e : series.entrySet()) {
            XYSeries s = chart.addSeries(e.getKey(), e.getValue()[0], e.getValue()[1]);
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setLineColor(Colours.category(ci));
            s.setMarkerColor(Colours.category(ci++));
        }
        if (referenceLines != null) {
            double lo = Double.MAX_VALUE;
            double hi = -Double.MAX_VALUE;
            for (double[][] v : series.values()) {
                for (double x : v[0]) {
                    lo = Math.min(lo, x);
                    hi = Math.max(hi, x);
                }
            }
            for (double r : referenceLines) {
                XYSeries s = chart.addSeries(String.format("%.3f", r), new double[] {lo, hi}, new double[] {r, r});
                s.setMarker(SeriesMarkers.NONE);
                s.setLineColor(Color.GRAY);
                s.setLineStyle(new BasicStroke(1, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {4, 4}, 0));
                s.setShowInLegend(false);
            }
        }
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw MoescopeException.failure(file + ": cannot write plot: " + e.getMessage(), e);
        }
    }

    /** How many powers of ten the positive values of one coordinate (0 = x, 1 = y) of all series span. */
    static double decades(Map<String, double[][]> series, int axis) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        for (double[][] v : series.values()) {
            for (double a : v[axis]) {
                if (a > 0 && Double.isFinite(a)) {
                    lo = Math.min(lo, a);
                    hi = Math.max(hi, a);
                }
            }
        }
        return hi > 0 ? Math.log10(hi / lo) : 0;
    }

    /** A box plot per configuration (Fig 4 companion): whiskers at min/max, box at quartiles, line at median. */
    public static void boxPlot(Path file, String title, List<String> names, List<double[]> values, String yLabel) {
        int width = 120 + names.size() * 90;
        int height = 420;
        BufferedImage img = canvas(width, height);
        Graphics2D g = graphics(img);
        g.setFont(TITLE);
        g.drawString(title, 20, 20);
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        for (double[] v : values) {
            for (double x : v) {
                lo = Math.min(lo, x);
                hi = Math.max(hi, x);
            }
        }
        if (hi <= lo) {
            hi = lo + 1e-9;
        }
        int top = 50;
        int bottom = height - 60;
        g.setFont(LABEL);
        g.drawString(String.format("%.4g", hi), 5, top + 5);
        g.drawString(String.format("%.4g", lo), 5, bottom);
        g.drawString(yLabel, 5, height - 10);
        for (int i = 0; i < names.size(); i++) {
            double[] v = values.get(i).clone();
            java.util.Arrays.sort(v);
            int x = 100 + i * 90;
            double q1 = v[v.length / 4];
            double med = v[v.length / 2];
            double q3 = v[Math.min(v.length - 1, 3 * v.length / 4)];
            final double flo = lo;
            final double fhi = hi;
            java.util.function.DoubleToIntFunction y = d -> (int) (bottom - (d - flo) / (fhi - flo) * (bottom - top));
            g.setColor(Colours.category(i));
            g.drawLine(x + 25, y.applyAsInt(v[0]), x + 25, y.applyAsInt(v[v.length - 1]));
            g.fillRect(x + 5, y.applyAsInt(q3), 40, Math.max(1, y.applyAsInt(q1) - y.applyAsInt(q3)));
            g.setColor(Color.BLACK);
            g.drawLine(x + 5, y.applyAsInt(med), x + 45, y.applyAsInt(med));
            g.drawString(names.get(i), x, bottom + 15);
        }
        write(img, file);
    }

    /**
     * One panel of a grouped bar chart: a bar per series in each category, e.g. mean usage of the experts with k
     * monosemantic features under each input condition.
     */
    public record BarGroupPanel(String title, String xLabel, String yLabel, List<String> categories,
                                Map<String, double[]> series) {
    }

    /**
     * Grouped bar charts side by side (xchart), under an overall title and above a caption that says what is
     * plotted (wrapped to the image width). Used for the Table 1 expert-usage figure.
     */
    public static void groupedBars(Path file, String title, List<BarGroupPanel> panels, String caption) {
        int panelW = 620;
        int panelH = 480;
        List<BufferedImage> charts = new java.util.ArrayList<>();
        for (BarGroupPanel p : panels) {
            CategoryChart chart = new CategoryChartBuilder().width(panelW).height(panelH).title(p.title())
                    .xAxisTitle(p.xLabel()).yAxisTitle(p.yLabel()).build();
            chart.getStyler().setChartBackgroundColor(Color.WHITE);
            chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideS);
            chart.getStyler().setLegendLayout(org.knowm.xchart.style.Styler.LegendLayout.Horizontal);
            chart.getStyler().setYAxisMin(0.0);
            chart.getStyler().setYAxisMax(1.0);
            chart.getStyler().setYAxisDecimalPattern("0.00");
            int ci = 0;
            for (Map.Entry<String, double[]> e : p.series().entrySet()) {
                List<Double> ys = new java.util.ArrayList<>();
                for (double v : e.getValue()) {
                    ys.add(v);
                }
                chart.addSeries(e.getKey(), p.categories(), ys).setFillColor(Colours.category(ci++));
            }
            charts.add(BitmapEncoder.getBufferedImage(chart));
        }
        int width = panelW * panels.size();
        List<String> lines = wrap(caption, LABEL, width - 40);
        int height = 40 + panelH + 20 + lines.size() * 16 + 10;
        BufferedImage img = canvas(width, height);
        Graphics2D g = graphics(img);
        g.setFont(TITLE);
        g.drawString(title, 20, 25);
        for (int i = 0; i < charts.size(); i++) {
            g.drawImage(charts.get(i), i * panelW, 40, null);
        }
        g.setFont(LABEL);
        for (int i = 0; i < lines.size(); i++) {
            g.drawString(lines.get(i), 20, 40 + panelH + 20 + i * 16);
        }
        write(img, file);
    }

    /** Greedy word wrap of {@code text} to {@code maxWidth} pixels in {@code font}. */
    private static List<String> wrap(String text, Font font, int maxWidth) {
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        java.awt.FontMetrics fm = probe.createGraphics().getFontMetrics(font);
        List<String> out = new java.util.ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            String next = line.length() == 0 ? word : line + " " + word;
            if (fm.stringWidth(next) > maxWidth && line.length() > 0) {
                out.add(line.toString());
                line = new StringBuilder(word);
            } else {
                line = new StringBuilder(next);
            }
        }
        if (line.length() > 0) {
            out.add(line.toString());
        }
        return out;
    }

    private static BufferedImage canvas(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.dispose();
        return img;
    }

    private static Graphics2D graphics(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.BLACK);
        return g;
    }

    private static void write(BufferedImage img, Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            ImageIO.write(img, "png", tmp.toFile());
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw MoescopeException.failure(file + ": cannot write plot: " + e.getMessage(), e);
        }
    }
}
