package dev.moescope.cli.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleFunction;

/**
 * Hand-written inline SVG charts for the report: line charts (linear or log x), grouped bar charts and heatmaps,
 * each with a title, axis labels, ticks and a legend. Vector output stays sharp at any zoom and needs no AWT.
 * The SVG has no {@code xmlns} URL: inline SVG in HTML does not need one, and the report carries no addresses.
 */
final class Svg {

    /** Tableau-10 colours: distinguishable and colour-blind tolerant. */
    static final String[] PALETTE = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
        "#7f7f7f", "#bcbd22", "#17becf"};

    /** A white outline under reference-line labels, so they stay legible over bars and lines. */
    private static final String HALO = "stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\"";

    private static final String FONT = "font-family=\"system-ui,-apple-system,'Segoe UI',Roboto,sans-serif\"";

    private Svg() {
    }

    /** One line of a line chart. */
    record Series(String name, double[] x, double[] y) {
    }

    /** A dashed horizontal reference line with a label (a baseline such as uniform routing). */
    record RefLine(double y, String label) {
    }

    /** Axis labels and options shared by the charts. */
    record Axes(String title, String xLabel, String yLabel) {
    }

    /** A line chart with markers; {@code logX} puts x on a log10 axis. */
    static String lines(Axes axes, boolean logX, List<Series> series, List<RefLine> refs) {
        double xMin = Double.POSITIVE_INFINITY, xMax = Double.NEGATIVE_INFINITY;
        double yMin = Double.POSITIVE_INFINITY, yMax = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                if (Double.isFinite(s.x()[i]) && Double.isFinite(s.y()[i])) {
                    xMin = Math.min(xMin, s.x()[i]);
                    xMax = Math.max(xMax, s.x()[i]);
                    yMin = Math.min(yMin, s.y()[i]);
                    yMax = Math.max(yMax, s.y()[i]);
                }
            }
        }
        for (RefLine r : refs) {
            yMin = Math.min(yMin, r.y());
            yMax = Math.max(yMax, r.y());
        }
        if (!Double.isFinite(xMin)) {
            return empty(axes.title());
        }
        List<String> names = series.stream().map(Series::name).toList();
        Frame f = new Frame(axes, 640, 360, legendWidth(names));
        double[] yt = niceTicks(yMin, yMax, 6);
        f.yRange(yt[0], yt[yt.length - 1]);
        double[] xt;
        if (logX) {
            f.xLog(xMin, xMax);
            xt = logTicks(xMin, xMax);
        } else if (integral(series) && xMax - xMin <= 24) { // layers, experts: no 0.5 ticks
            xt = new double[(int) (xMax - xMin) + 1];
            for (int i = 0; i < xt.length; i++) {
                xt[i] = xMin + i;
            }
            double pad = Math.max(0.15, (xMax - xMin) * 0.04);
            f.xRange(xMin - pad, xMax + pad);
        } else {
            xt = niceTicks(xMin, xMax, 7);
            f.xRange(xt[0], xt[xt.length - 1]);
        }
        StringBuilder b = f.open();
        f.grid(b, xt, yt);
        for (RefLine r : refs) {
            double y = f.py(r.y());
            b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                    + "stroke=\"#555\" stroke-dasharray=\"5 4\" stroke-width=\"1.2\"/>", f.left, y, f.right(), y));
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#444\" "
                    + "text-anchor=\"end\" " + HALO + ">%s</text>", f.right() - 4, y - 4, Html.esc(r.label())));
        }
        for (int s = 0; s < series.size(); s++) {
            Series ser = series.get(s);
            String colour = PALETTE[s % PALETTE.length];
            StringBuilder path = new StringBuilder();
            StringBuilder marks = new StringBuilder();
            for (int i = 0; i < ser.x().length; i++) {
                if (!Double.isFinite(ser.x()[i]) || !Double.isFinite(ser.y()[i])) {
                    continue;
                }
                double x = f.px(ser.x()[i]), y = f.py(ser.y()[i]);
                path.append(path.isEmpty() ? "M" : "L").append(String.format(Locale.ROOT, "%.1f %.1f ", x, y));
                marks.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.2\" fill=\"%s\">"
                        + "<title>%s: (%s, %s)</title></circle>", x, y, colour, Html.esc(ser.name()),
                        num(ser.x()[i]), num(ser.y()[i])));
            }
            b.append("<path d=\"").append(path).append("\" fill=\"none\" stroke=\"").append(colour)
                    .append("\" stroke-width=\"2\"/>").append(marks);
        }
        f.axes(b, xt, yt, logX ? Svg::num : Svg::num, Svg::num);
        f.legend(b, names, false);
        return b.append("</svg>").toString();
    }

    /**
     * Grouped vertical bars: one group per {@code groups} entry, one bar per series ({@code values[series][group]}),
     * with optional reference lines. The y axis starts at {@code yFloor} (0 for counts; a ratio chart may start at 1).
     */
    static String bars(Axes axes, List<String> groups, List<String> seriesNames, double[][] values, double yFloor,
                       List<RefLine> refs) {
        double yMax = yFloor;
        for (double[] row : values) {
            for (double v : row) {
                if (Double.isFinite(v)) {
                    yMax = Math.max(yMax, v);
                }
            }
        }
        for (RefLine r : refs) {
            yMax = Math.max(yMax, r.y());
        }
        if (yMax <= yFloor) {
            yMax = yFloor + 1;
        }
        Frame f = new Frame(axes, 640, 340, seriesNames.size() > 1 ? legendWidth(seriesNames) : 16);
        double[] yt = niceTicks(yFloor, yMax, 6);
        f.yRange(yFloor, yt[yt.length - 1]);
        f.xRange(0, groups.size());
        StringBuilder b = f.open();
        f.grid(b, new double[0], yt);
        double groupWidth = f.plotWidth() / groups.size();
        double barWidth = groupWidth * 0.8 / seriesNames.size();
        for (int g = 0; g < groups.size(); g++) {
            for (int s = 0; s < seriesNames.size(); s++) {
                double v = values[s][g];
                if (!Double.isFinite(v)) {
                    continue;
                }
                double x = f.left + g * groupWidth + groupWidth * 0.1 + s * barWidth;
                double y = f.py(Math.max(v, yFloor));
                b.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        + "fill=\"%s\"><title>%s, %s: %s</title></rect>", x, y, Math.max(barWidth - 1.5, 1),
                        f.py(yFloor) - y, PALETTE[s % PALETTE.length], Html.esc(groups.get(g)),
                        Html.esc(seriesNames.get(s)), num(v)));
                if (seriesNames.size() == 1) { // one bar per group: its value is worth reading
                    b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
                            + "text-anchor=\"middle\" fill=\"#333\">%s</text>", x + barWidth / 2, y - 4, num(v)));
                }
            }
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\" "
                    + "fill=\"#222\">%s</text>", f.left + (g + 0.5) * groupWidth, f.bottom() + 16,
                    Html.esc(groups.get(g))));
        }
        for (RefLine r : refs) {
            double y = f.py(r.y());
            b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                    + "stroke=\"#333\" stroke-dasharray=\"5 4\" stroke-width=\"1.2\"/>", f.left, y, f.right(), y));
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#333\" "
                    + "text-anchor=\"end\" " + HALO + ">%s</text>", f.right() - 4, y - 4, Html.esc(r.label())));
        }
        f.axes(b, new double[0], yt, Svg::num, Svg::num);
        if (seriesNames.size() > 1) {
            f.legend(b, seriesNames, true);
        }
        return b.append("</svg>").toString();
    }

    /**
     * A heatmap of {@code values[row][col]} on a white-to-dark-red scale from {@code min} to {@code max} (shared
     * across small multiples so they compare), every cell labelled with its value.
     */
    static String heatmap(String title, String rowAxis, String colAxis, List<String> rows, List<String> cols,
                          double[][] values, double min, double max, DoubleFunction<String> cellText,
                          double highlightAbove) {
        int cell = Math.max(30, Math.min(48, 420 / Math.max(1, cols.size())));
        int rowLabelWidth = 16 + 7 * rows.stream().mapToInt(String::length).max().orElse(4);
        int left = rowLabelWidth + 22, top = 34;
        int width = left + cell * cols.size() + 14;
        int height = top + cell * rows.size() + 44;
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg viewBox=\"0 0 %d %d\" width=\"%d\" role=\"img\" %s>", width, height,
                width, FONT));
        b.append("<title>").append(Html.esc(title)).append("</title>");
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"20\" font-size=\"14\" font-weight=\"600\" "
                + "fill=\"#111\">%s</text>", 4, Html.esc(title)));
        for (int r = 0; r < rows.size(); r++) {
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\" "
                    + "fill=\"#222\">%s</text>", left - 6, top + (r + 0.5) * cell + 4, Html.esc(rows.get(r))));
            for (int c = 0; c < cols.size(); c++) {
                double v = values[r][c];
                double t = Double.isFinite(v) ? Math.max(0, Math.min(1, (v - min) / (max - min))) : 0;
                String fill = Double.isFinite(v) ? heat(t) : "#eee";
                b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
                        + "stroke=\"%s\" stroke-width=\"%s\"><title>%s, %s %s: %s</title></rect>",
                        left + c * cell, top + r * cell, cell, cell, fill,
                        v > highlightAbove ? "#000" : "#fff", v > highlightAbove ? "2" : "1",
                        Html.esc(rows.get(r)), Html.esc(colAxis), Html.esc(cols.get(c)), num(v)));
                b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" "
                        + "text-anchor=\"middle\" fill=\"%s\">%s</text>", left + (c + 0.5) * cell,
                        top + (r + 0.5) * cell + 3.5, t > 0.55 ? "#fff" : "#222",
                        Double.isFinite(v) ? Html.esc(cellText.apply(v)) : ""));
            }
        }
        for (int c = 0; c < cols.size(); c++) {
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\" "
                    + "fill=\"#222\">%s</text>", left + (c + 0.5) * cell, top + rows.size() * cell + 16,
                    Html.esc(cols.get(c))));
        }
        b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\" "
                + "fill=\"#222\">%s</text>", left + cols.size() * cell / 2.0, top + rows.size() * cell + 36,
                Html.esc(colAxis)));
        b.append(String.format(Locale.ROOT, "<text transform=\"translate(12 %.1f) rotate(-90)\" font-size=\"12\" "
                + "text-anchor=\"middle\" fill=\"#222\">%s</text>", top + rows.size() * cell / 2.0, Html.esc(rowAxis)));
        return b.append("</svg>").toString();
    }

    /** A horizontal colour bar for {@link #heatmap}'s scale; {@code id} must be unique in the page. */
    static String colourBar(String id, String label, double min, double max, DoubleFunction<String> tick) {
        StringBuilder b = new StringBuilder();
        b.append("<svg viewBox=\"0 0 300 46\" width=\"300\" role=\"img\" ").append(FONT).append(">");
        b.append("<defs><linearGradient id=\"").append(id).append("\">");
        for (int i = 0; i <= 10; i++) {
            b.append(String.format(Locale.ROOT, "<stop offset=\"%d%%\" stop-color=\"%s\"/>", i * 10, heat(i / 10.0)));
        }
        b.append("</linearGradient></defs>");
        b.append("<rect x=\"10\" y=\"4\" width=\"280\" height=\"12\" fill=\"url(#").append(id)
                .append(")\" stroke=\"#999\"/>");
        b.append(String.format(Locale.ROOT, "<text x=\"10\" y=\"30\" font-size=\"11\">%s</text>", Html.esc(tick.apply(min))));
        b.append(String.format(Locale.ROOT, "<text x=\"290\" y=\"30\" font-size=\"11\" text-anchor=\"end\">%s</text>",
                Html.esc(tick.apply(max))));
        b.append(String.format(Locale.ROOT, "<text x=\"150\" y=\"42\" font-size=\"11\" text-anchor=\"middle\">%s</text>",
                Html.esc(label)));
        return b.append("</svg>").toString();
    }

    /** White through orange to dark red, for t in [0, 1]. */
    static String heat(double t) {
        double[][] stops = {{255, 255, 255}, {253, 204, 138}, {252, 141, 89}, {215, 48, 31}, {127, 0, 0}};
        double p = t * (stops.length - 1);
        int i = Math.min(stops.length - 2, (int) Math.floor(p));
        double u = p - i;
        int[] c = new int[3];
        for (int k = 0; k < 3; k++) {
            c[k] = (int) Math.round(stops[i][k] + u * (stops[i + 1][k] - stops[i][k]));
        }
        return String.format(Locale.ROOT, "#%02x%02x%02x", c[0], c[1], c[2]);
    }

    /** A short, readable number: 3 significant digits, no exponent for everyday magnitudes. */
    static String num(double v) {
        if (!Double.isFinite(v)) {
            return "n/a";
        }
        double a = Math.abs(v);
        if (a == 0) {
            return "0";
        }
        if (a >= 1e6 || a < 1e-3) {
            return String.format(Locale.ROOT, "%.2e", v);
        }
        if (a >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        String s = String.format(Locale.ROOT, a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f", v);
        if (s.contains(".")) {
            s = s.replaceAll("0+$", "").replaceAll("\\.$", "");
        }
        return s;
    }

    private static boolean integral(List<Series> series) {
        for (Series s : series) {
            for (double x : s.x()) {
                if (Double.isFinite(x) && x != Math.rint(x)) {
                    return false;
                }
            }
        }
        return true;
    }

    private static String empty(String title) {
        return "<p class=\"missing\">" + Html.esc(title) + ": no data.</p>";
    }

    private static int legendWidth(List<String> names) {
        return 34 + 7 * names.stream().mapToInt(String::length).max().orElse(4);
    }

    /** Ticks at 1, 2, 5 × 10^j, rounded outwards to cover [lo, hi]. */
    static double[] niceTicks(double lo, double hi, int target) {
        if (hi <= lo) {
            hi = lo + (lo == 0 ? 1 : Math.abs(lo) * 0.1);
        }
        double raw = (hi - lo) / target;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = mag;
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (raw <= m * mag) {
                step = m * mag;
                break;
            }
        }
        double start = Math.floor(lo / step + 1e-9) * step;
        double end = Math.ceil(hi / step - 1e-9) * step;
        int n = (int) Math.round((end - start) / step) + 1;
        double[] t = new double[n];
        for (int i = 0; i < n; i++) {
            t[i] = start + i * step;
        }
        return t;
    }

    private static double[] logTicks(double lo, double hi) {
        List<Double> ticks = new ArrayList<>();
        for (int e = (int) Math.floor(Math.log10(lo)); e <= (int) Math.ceil(Math.log10(hi)); e++) {
            for (double m : new double[] {1, 2, 5}) {
                double v = m * Math.pow(10, e);
                if (v >= lo * 0.999 && v <= hi * 1.001) {
                    ticks.add(v);
                }
            }
        }
        return ticks.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** Plot area geometry and the axis/grid/legend drawing every chart shares. */
    private static final class Frame {
        final Axes axes;
        final int width, height, legend;
        final double left = 64, top = 34;
        double x0, x1, y0, y1;
        boolean logX;

        Frame(Axes axes, int width, int height, int legend) {
            this.axes = axes;
            this.width = width + legend;
            this.height = height;
            this.legend = legend;
        }

        double right() {
            return width - legend - 12;
        }

        double bottom() {
            return height - 46;
        }

        double plotWidth() {
            return right() - left;
        }

        void xRange(double lo, double hi) {
            x0 = lo;
            x1 = hi > lo ? hi : lo + 1;
        }

        void xLog(double lo, double hi) {
            logX = true;
            x0 = Math.log10(lo);
            x1 = hi > lo ? Math.log10(hi) : x0 + 1;
            double pad = (x1 - x0) * 0.03;
            x0 -= pad;
            x1 += pad;
        }

        void yRange(double lo, double hi) {
            y0 = lo;
            y1 = hi > lo ? hi : lo + 1;
        }

        double px(double x) {
            double v = logX ? Math.log10(x) : x;
            return left + (v - x0) / (x1 - x0) * plotWidth();
        }

        double py(double y) {
            return bottom() - (y - y0) / (y1 - y0) * (bottom() - top);
        }

        StringBuilder open() {
            StringBuilder b = new StringBuilder();
            b.append(String.format(Locale.ROOT, "<svg viewBox=\"0 0 %d %d\" width=\"%d\" role=\"img\" %s>", width,
                    height, width, FONT));
            b.append("<title>").append(Html.esc(axes.title())).append("</title>");
            b.append(String.format(Locale.ROOT, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>",
                    width, height));
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"20\" font-size=\"14\" font-weight=\"600\" "
                    + "text-anchor=\"middle\" fill=\"#111\">%s</text>", (left + right()) / 2, Html.esc(axes.title())));
            return b;
        }

        void grid(StringBuilder b, double[] xt, double[] yt) {
            for (double y : yt) {
                b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                        + "stroke=\"#e5e5e5\"/>", left, py(y), right(), py(y)));
            }
            for (double x : xt) {
                b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                        + "stroke=\"#eeeeee\"/>", px(x), top, px(x), bottom()));
            }
        }

        void axes(StringBuilder b, double[] xt, double[] yt, DoubleFunction<String> xf, DoubleFunction<String> yf) {
            b.append(String.format(Locale.ROOT, "<path d=\"M%.1f %.1f V%.1f H%.1f\" fill=\"none\" stroke=\"#333\"/>",
                    left, top, bottom(), right()));
            for (double y : yt) {
                b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" "
                        + "fill=\"#333\">%s</text>", left - 6, py(y) + 4, Html.esc(yf.apply(y))));
            }
            for (double x : xt) {
                b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
                        + "text-anchor=\"middle\" fill=\"#333\">%s</text>", px(x), bottom() + 15, Html.esc(xf.apply(x))));
            }
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\" "
                    + "fill=\"#111\">%s</text>", (left + right()) / 2, height - 10.0, Html.esc(axes.xLabel())));
            b.append(String.format(Locale.ROOT, "<text transform=\"translate(16 %.1f) rotate(-90)\" font-size=\"12\" "
                    + "text-anchor=\"middle\" fill=\"#111\">%s</text>", (top + bottom()) / 2, Html.esc(axes.yLabel())));
        }

        void legend(StringBuilder b, List<String> names, boolean squares) {
            double x = right() + 18;
            for (int i = 0; i < names.size(); i++) {
                double y = top + 10 + i * 20;
                String c = PALETTE[i % PALETTE.length];
                if (squares) {
                    b.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" "
                            + "fill=\"%s\"/>", x, y - 10, c));
                } else {
                    b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                            + "stroke=\"%s\" stroke-width=\"2\"/><circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.2\" "
                            + "fill=\"%s\"/>", x, y - 4, x + 16, y - 4, c, x + 8, y - 4, c));
                }
                b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#222\">%s"
                        + "</text>", x + 22, y, Html.esc(names.get(i))));
            }
        }
    }
}
