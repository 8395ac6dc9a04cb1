package dev.moescope.cli.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads the small CSV tables stages write (header row, comma-separated, double-quoted fields). */
final class Csv {

    private Csv() {
    }

    /** Rows as header → value maps; empty when the file is missing or unreadable. */
    static List<Map<String, String>> read(Path file) {
        List<Map<String, String>> rows = new ArrayList<>();
        if (file == null || !Files.isRegularFile(file)) {
            return rows;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return rows;
        }
        if (lines.isEmpty()) {
            return rows;
        }
        List<String> header = fields(lines.get(0));
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) {
                continue;
            }
            List<String> f = fields(line);
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 0; i < header.size(); i++) {
                row.put(header.get(i), i < f.size() ? f.get(i) : "");
            }
            rows.add(row);
        }
        return rows;
    }

    static double num(Map<String, String> row, String column) {
        try {
            return Double.parseDouble(row.getOrDefault(column, ""));
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static List<String> fields(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cur.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }
}
