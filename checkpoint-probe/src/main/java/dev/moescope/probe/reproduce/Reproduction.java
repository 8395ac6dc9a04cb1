package dev.moescope.probe.reproduce;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.AtomicFiles;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The outcome of one reproduction target: its checks (paper value vs ours with a status), CSV tables, the
 * figures for {@code summary.json}, the input files read and notes. {@link #write} puts it in a directory.
 */
public final class Reproduction {

    private final ReproductionTarget target;
    private final List<Check> checks = new ArrayList<>();
    private final Map<String, Table> tables = new LinkedHashMap<>();
    private final Map<String, Object> figures = new LinkedHashMap<>();
    private final List<Path> inputs = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final List<String> shown = new ArrayList<>();

    Reproduction(ReproductionTarget target) {
        this.target = target;
    }

    public ReproductionTarget target() {
        return target;
    }

    public List<Check> checks() {
        return checks;
    }

    public Map<String, Table> tables() {
        return tables;
    }

    public Map<String, Object> figures() {
        return figures;
    }

    public List<Path> inputs() {
        return inputs;
    }

    public List<String> notes() {
        return notes;
    }

    void check(Check c) {
        checks.add(c);
    }

    void table(String name, Table t) {
        tables.put(name, t);
    }

    /** Also renders table {@code name} in reproduction.md (under the checks). */
    void show(String name) {
        shown.add(name);
    }

    void figure(String name, Object value) {
        figures.put(name, value);
    }

    void input(Path p) {
        inputs.add(p);
    }

    void note(String n) {
        notes.add(n);
    }

    /** Checks that are not met. */
    public long unmet() {
        return checks.stream().filter(c -> c.status() == Check.Status.NOT_MET).count();
    }

    /**
     * Writes {@code <table>.csv} files, {@code checks.csv}, {@code reproduction.md} and last {@code summary.json}
     * (provenance with the inputs' SHA-256, checks, figures), each atomically. Returns the files written.
     */
    public List<Path> write(Path dir, Provenance.Builder provenance) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw MoescopeException.failure(dir + ": cannot create the output directory: " + e.getMessage(), e);
        }
        inputs.forEach(provenance::input);
        Provenance prov = provenance.build();
        List<Path> files = new ArrayList<>();
        Table checkTable = new Table("quantity", "paper", "ours", "tolerance", "status");
        checks.forEach(c -> checkTable.row(c.quantity(), c.paper(), c.ours(), c.tolerance(), c.status()));
        Map<String, Table> all = new LinkedHashMap<>();
        all.put("checks", checkTable);
        all.putAll(tables);
        for (Map.Entry<String, Table> t : all.entrySet()) {
            Path f = dir.resolve(t.getKey() + ".csv");
            AtomicFiles.writeString(f, t.getValue().toCsv());
            files.add(f);
        }
        Path md = dir.resolve("reproduction.md");
        AtomicFiles.writeString(md, markdown());
        files.add(md);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("provenance", prov.finishedNow());
        json.put("target", Map.of("name", target.cliName(), "number", target.number(), "title", target.title()));
        json.put("checks", checks);
        json.put("unmet", unmet());
        json.put("figures", figures);
        json.put("notes", notes);
        Path summary = dir.resolve("summary.json");
        Json.write(summary, json); // last: its presence marks a complete report
        files.add(summary);
        return files;
    }

    /** The checks as a Markdown table under the target's title, with the notes below. */
    public String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("## Target ").append(target.number()).append(": ").append(target.title()).append("\n\n");
        b.append("| quantity | paper / released | ours | tolerance | status |\n|---|---|---|---|---|\n");
        for (Check c : checks) {
            b.append("| ").append(cell(c.quantity())).append(" | ").append(cell(c.paper())).append(" | ")
                    .append(cell(c.ours())).append(" | ").append(cell(c.tolerance())).append(" | ")
                    .append(c.status() == Check.Status.NOT_MET ? "**not met**" : c.status().toString()).append(" |\n");
        }
        for (String name : shown) {
            Table t = tables.get(name);
            b.append("\n`").append(name).append(".csv`:\n\n| ").append(String.join(" | ", t.header())).append(" |\n|");
            t.header().forEach(h -> b.append("---|"));
            b.append('\n');
            t.rows().forEach(r -> b.append("| ").append(String.join(" | ", r.stream().map(Reproduction::shortNumber).toList()))
                    .append(" |\n"));
        }
        if (!notes.isEmpty()) {
            b.append('\n');
            notes.forEach(n -> b.append("- ").append(n).append('\n'));
        }
        return b.toString();
    }

    /** Decimals shortened to 4 places for reading; the CSV keeps them in full. */
    private static String shortNumber(String s) {
        if (s.matches("-?\\d+\\.\\d{5,}(E-?\\d+)?")) {
            return String.format(java.util.Locale.ROOT, "%.4f", Double.parseDouble(s));
        }
        return cell(s);
    }

    private static String cell(String s) {
        return s.replace("|", "\\|");
    }
}
