package dev.moescope.core.json;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import com.google.gson.JsonSerializer;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonWriter;
import dev.moescope.core.error.MoescopeException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/** The project's JSON: pretty-printed, records supported, {@link Instant} and {@link Path} as strings. */
public final class Json {

    private static final Gson GSON = new GsonBuilder()
            .setPrettyPrinting()
            .disableHtmlEscaping()
            .serializeSpecialFloatingPointValues()
            .registerTypeAdapter(Instant.class, new InstantAdapter().nullSafe())
            .registerTypeHierarchyAdapter(Path.class, (JsonSerializer<Path>) (p, t, c) -> new JsonPrimitive(p.toString()))
            .create();

    private Json() {
    }

    public static Gson gson() {
        return GSON;
    }

    public static String toJson(Object value) {
        return GSON.toJson(value);
    }

    public static JsonElement toTree(Object value) {
        return GSON.toJsonTree(value);
    }

    /** Writes {@code value} as JSON, atomically: readers see either the old file or the complete new one. */
    public static void write(Path file, Object value) {
        AtomicFiles.writeString(file, GSON.toJson(value) + "\n");
    }

    /** Reads {@code file} as {@code type}; a missing or malformed file is bad input naming the file. */
    public static <T> T read(Path file, Class<T> type) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.nio.file.NoSuchFileException e) {
            throw MoescopeException.badInput(file, "file not found");
        } catch (IOException e) {
            throw MoescopeException.badInput(file, "cannot read: " + e.getMessage(), e);
        }
        try {
            T value = GSON.fromJson(text, type);
            if (value == null) {
                throw MoescopeException.badInput(file, "empty JSON document");
            }
            return value;
        } catch (JsonParseException e) {
            throw MoescopeException.badInput(file, "malformed JSON: " + rootMessage(e), e);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage();
    }

    private static final class InstantAdapter extends TypeAdapter<Instant> {
        @Override
        public void write(JsonWriter out, Instant value) throws IOException {
            out.value(value.toString());
        }

        @Override
        public Instant read(JsonReader in) throws IOException {
            return Instant.parse(in.nextString());
        }
    }
}
