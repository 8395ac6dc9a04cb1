package dev.moescope.probe.reproduce;

import dev.moescope.core.error.MoescopeException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A released comma-separated table with a header line and unquoted cells (the MoE Lens CSVs): columns looked up
 * by name, numbers parsed with one-line bad-input errors that name the file, line and column.
 */
final class ReleasedCsv {

    private final Path file;
    private final List<String> header;
    private final List<String[]> rows;

    private ReleasedCsv(Path file, List<String> header, List<String[]> rows) {
        this.file = file;
        this.header = header;
        this.rows = rows;
    }

    static ReleasedCsv read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw MoescopeException.badInput(file, "file not found");
        } catch (IOException e) {
            throw MoescopeException.badInput(file, "cannot read: " + e.getMessage(), e);
        }
        lines = lines.stream().filter(l -> !l.isBlank()).toList();
        if (lines.isEmpty()) {
            throw MoescopeException.badInput(file, "empty file (expected a header line)");
        }
        List<String> header = List.of(lines.get(0).strip().split(",", -1));
        List<String[]> rows = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String[] cells = lines.get(i).strip().split(",", -1);
            if (cells.length != header.size()) {
                throw MoescopeException.badInput(file, "line " + (i + 1) + " has " + cells.length + " cells, the header "
                        + header.size());
            }
            rows.add(cells);
        }
        return new ReleasedCsv(file, header, rows);
    }

    int rows() {
        return rows.size();
    }

    int column(String name) {
        int c = header.indexOf(name);
        if (c < 0) {
            throw MoescopeException.badInput(file, "no column " + name + " (header: " + String.join(",", header) + ")");
        }
        return c;
    }

    String text(int row, int column) {
        return rows.get(row)[column];
    }

    double number(int row, int column) {
        String s = rows.get(row)[column].strip();
        try {
            double v = Double.parseDouble(s);
            if (!Double.isFinite(v)) {
                throw new NumberFormatException("not finite");
            }
            return v;
        } catch (NumberFormatException e) {
            throw MoescopeException.badInput(file, "line " + (row + 2) + " column " + header.get(column) + ": '" + s
                    + "' is not a finite number");
        }
    }

    double[] numbers(String column) {
        int c = column(column);
        double[] v = new double[rows.size()];
        for (int r = 0; r < v.length; r++) {
            v[r] = number(r, c);
        }
        return v;
    }
}
