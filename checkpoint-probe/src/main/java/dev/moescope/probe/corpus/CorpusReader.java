package dev.moescope.probe.corpus;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.Require;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Streams documents from corpus files without loading them whole:
 * <ul>
 *   <li>{@code .jsonl}: one JSON object per line, text in {@code textField}, domain in {@code domainField}
 *   (a missing text or domain field is bad input naming the file and line; {@code domainField} null = no domains);</li>
 *   <li>{@code .txt}: one document per non-blank line (the MoE Lens corpus layout), domain = the file name
 *   without extension;</li>
 *   <li>a directory: its {@code .jsonl} and {@code .txt} files in name order.</li>
 * </ul>
 */
public final class CorpusReader {

    /**
     * Reading options.
     *
     * @param textField   JSONL field holding the text
     * @param domainField JSONL field holding the domain, or null for none
     * @param domains     keep only these domains (empty = all)
     * @param maxDocs     stop after this many documents (0 = no limit)
     */
    public record Options(String textField, String domainField, Set<String> domains, long maxDocs) {
        public Options {
            Require.notNull("text field", textField);
            domains = domains == null ? Set.of() : Set.copyOf(domains);
            Require.that(maxDocs >= 0, "max docs", "non-negative", maxDocs);
        }

        public static Options defaults() {
            return new Options("text", "domain", Set.of(), 0);
        }
    }

    private CorpusReader() {
    }

    /**
     * Calls {@code sink} for each document in order until it returns false or the limit is reached; returns the
     * number of documents delivered. A corpus that yields none is bad input.
     */
    public static long read(Path corpus, Options options, Predicate<Document> sink) {
        List<Path> files = files(corpus);
        long[] count = {0};
        for (Path f : files) {
            boolean more = f.getFileName().toString().endsWith(".jsonl")
                    ? readJsonl(f, options, sink, count) : readText(f, options, sink, count);
            if (!more) {
                break;
            }
        }
        if (count[0] == 0) {
            throw MoescopeException.badInput(corpus, "the corpus has no documents"
                    + (options.domains().isEmpty() ? "" : " in domains " + options.domains()));
        }
        return count[0];
    }

    static List<Path> files(Path corpus) {
        if (!Files.exists(corpus)) {
            throw MoescopeException.badInput(corpus, "no such corpus file or directory");
        }
        if (!Files.isDirectory(corpus)) {
            String n = corpus.getFileName().toString();
            if (!n.endsWith(".jsonl") && !n.endsWith(".txt")) {
                throw MoescopeException.badInput(corpus, "corpus files must be .jsonl or .txt");
            }
            return List.of(corpus);
        }
        try (Stream<Path> s = Files.list(corpus)) {
            List<Path> l = new ArrayList<>(s.filter(p -> {
                String n = p.getFileName().toString();
                return Files.isRegularFile(p) && (n.endsWith(".jsonl") || n.endsWith(".txt"));
            }).sorted().toList());
            if (l.isEmpty()) {
                throw MoescopeException.badInput(corpus, "the corpus directory has no .jsonl or .txt files");
            }
            return l;
        } catch (IOException e) {
            throw MoescopeException.badInput(corpus, "cannot list the corpus directory: " + e.getMessage(), e);
        }
    }

    private static boolean deliver(Document d, Options o, Predicate<Document> sink, long[] count) {
        if (!o.domains().isEmpty() && !o.domains().contains(d.domain())) {
            return true;
        }
        count[0]++;
        boolean more = sink.test(d);
        return more && (o.maxDocs() == 0 || count[0] < o.maxDocs());
    }

    private static boolean readJsonl(Path f, Options o, Predicate<Document> sink, long[] count) {
        try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
            String line;
            long n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                JsonObject obj;
                try {
                    JsonElement e = JsonParser.parseString(line);
                    if (!e.isJsonObject()) {
                        throw new IllegalStateException("not an object");
                    }
                    obj = e.getAsJsonObject();
                } catch (RuntimeException e) {
                    throw MoescopeException.badInput(f, "line " + n + ": not a JSON object");
                }
                String text = field(obj, o.textField(), f, n, "pass --text-field NAME to read another field");
                String domain = o.domainField() == null ? "" : field(obj, o.domainField(), f, n,
                        "pass --domain-field NAME to read another field, or --domain-field none if the corpus has "
                                + "no domains");
                if (!deliver(new Document(count[0], f.getFileName() + ":" + n, domain, text), o, sink, count)) {
                    return false;
                }
            }
            return true;
        } catch (IOException | UncheckedIOException e) {
            throw MoescopeException.badInput(f, "cannot read: " + e.getMessage(), e);
        }
    }

    /** A string field of a JSONL line; {@code hint} says which option picks another field. */
    private static String field(JsonObject obj, String name, Path f, long line, String hint) {
        JsonElement v = obj.get(name);
        if (v == null || !v.isJsonPrimitive()) {
            throw MoescopeException.badInput(f, "line " + line + ": no string field '" + name + "' (fields: "
                    + obj.keySet() + "; " + hint + ")");
        }
        return v.getAsString();
    }

    private static boolean readText(Path f, Options o, Predicate<Document> sink, long[] count) {
        String name = f.getFileName().toString();
        String domain = name.substring(0, name.lastIndexOf('.'));
        try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
            String line;
            long n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (!line.isBlank() && !deliver(new Document(count[0], name + ":" + n, domain, line), o, sink, count)) {
                    return false;
                }
            }
            return true;
        } catch (IOException | UncheckedIOException e) {
            throw MoescopeException.badInput(f, "cannot read: " + e.getMessage(), e);
        }
    }
}
