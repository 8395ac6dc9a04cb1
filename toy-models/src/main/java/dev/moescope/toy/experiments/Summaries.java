package dev.moescope.toy.experiments;

import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** summary.json for every toy command: the command, its key results under stable names, and provenance. */
public final class Summaries {

    private Summaries() {
    }

    /** Writes {@code dir/summary.json} atomically and returns its path. */
    public static Path write(Path dir, String command, Map<String, Object> results, Provenance provenance) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("command", command);
        doc.put("results", results);
        doc.put("provenance", provenance.finishedNow());
        Path file = dir.resolve("summary.json");
        Json.write(file, doc);
        return file;
    }
}
