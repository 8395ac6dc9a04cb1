package dev.moescope.probe.reproduce;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A CSV table built row by row: a header and rows of cells (numbers printed with full precision). */
public final class Table {

    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    public Table(String... header) {
        this.header = List.of(header);
    }

    /** Adds a row; numbers print in full ({@link Double#toString}), other cells as text. */
    public Table row(Object... cells) {
        if (cells.length != header.size()) {
            throw new IllegalArgumentException(cells.length + " cells for " + header.size() + " columns");
        }
        List<String> r = new ArrayList<>();
        for (Object c : cells) {
            r.add(c instanceof Double d ? Double.toString(d) : c instanceof Float f ? Float.toString(f)
                    : String.valueOf(c));
        }
        rows.add(r);
        return this;
    }

    public List<String> header() {
        return header;
    }

    public List<List<String>> rows() {
        return rows;
    }

    /** RFC-4180-style text: cells with commas or quotes are quoted. */
    public String toCsv() {
        StringBuilder b = new StringBuilder();
        line(b, header);
        rows.forEach(r -> line(b, r));
        return b.toString();
    }

    private static void line(StringBuilder b, List<String> cells) {
        for (int i = 0; i < cells.size(); i++) {
            String c = cells.get(i);
            if (c.contains(",") || c.contains("\"") || c.contains("\n")) {
                c = "\"" + c.replace("\"", "\"\"") + "\"";
            }
            b.append(i == 0 ? "" : ",").append(c);
        }
        b.append('\n');
    }

    static String pct(double share) {
        return String.format(Locale.ROOT, "%.2f %%", 100 * share);
    }
}
