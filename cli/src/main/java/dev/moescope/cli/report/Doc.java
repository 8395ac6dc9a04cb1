package dev.moescope.cli.report;

import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A read-only view of one JSON document (a stage's {@code summary.json}) with forgiving lookups by dotted path:
 * a missing file, field or wrong type reads as absent ({@code NaN}, {@code null}, empty list), so a report of a
 * partial run still renders, saying what is missing instead of failing.
 */
final class Doc {

    static final Doc ABSENT = new Doc(JsonNull.INSTANCE);

    private final JsonElement root;

    private Doc(JsonElement root) {
        this.root = root == null ? JsonNull.INSTANCE : root;
    }

    static Doc of(JsonElement e) {
        return new Doc(e);
    }

    /** Reads {@code file}; absent when it does not exist or is not JSON. */
    static Doc read(Path file) {
        if (file == null || !Files.isRegularFile(file)) {
            return ABSENT;
        }
        try {
            return new Doc(JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)));
        } catch (IOException | RuntimeException e) {
            return ABSENT;
        }
    }

    boolean present() {
        return !root.isJsonNull();
    }

    JsonElement json() {
        return root;
    }

    /** The element at {@code dotted} ("a.b.c"; a numeric part indexes an array). */
    Doc get(String dotted) {
        if (dotted.isEmpty()) {
            return this;
        }
        JsonElement e = root;
        for (String part : dotted.split("\\.")) {
            if (e.isJsonObject() && e.getAsJsonObject().has(part)) {
                e = e.getAsJsonObject().get(part);
            } else if (e.isJsonArray() && part.matches("\\d+") && Integer.parseInt(part) < e.getAsJsonArray().size()) {
                e = e.getAsJsonArray().get(Integer.parseInt(part));
            } else {
                return ABSENT;
            }
        }
        return new Doc(e);
    }

    /** The number at {@code dotted}, or NaN. */
    double num(String dotted) {
        JsonElement e = get(dotted).root;
        try {
            return e.isJsonPrimitive() ? e.getAsDouble() : Double.NaN;
        } catch (RuntimeException ex) {
            return Double.NaN;
        }
    }

    /** The string form of the primitive at {@code dotted}, or null. */
    String str(String dotted) {
        JsonElement e = get(dotted).root;
        return e.isJsonPrimitive() ? e.getAsString() : null;
    }

    /** The array at {@code dotted} as documents (empty if absent). */
    List<Doc> list(String dotted) {
        JsonElement e = get(dotted).root;
        List<Doc> out = new ArrayList<>();
        if (e.isJsonArray()) {
            for (JsonElement x : e.getAsJsonArray()) {
                out.add(new Doc(x));
            }
        }
        return out;
    }

    /** The numbers of the array at {@code dotted} (NaN for non-numbers; empty if absent). */
    double[] nums(String dotted) {
        List<Doc> items = list(dotted);
        double[] out = new double[items.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = items.get(i).num("");
        }
        return out;
    }

    /** The keys of the object at {@code dotted}, in file order (empty if absent). */
    List<String> keys(String dotted) {
        JsonElement e = get(dotted).root;
        return e.isJsonObject() ? new ArrayList<>(e.getAsJsonObject().keySet()) : List.of();
    }

    /** Whether the value at {@code dotted} is an object. */
    boolean isObject() {
        return root.isJsonObject();
    }

    boolean isArray() {
        return root.isJsonArray();
    }

    boolean isPrimitive() {
        return root.isJsonPrimitive();
    }

    @Override
    public String toString() {
        return root.isJsonPrimitive() ? root.getAsString() : root.toString();
    }
}
