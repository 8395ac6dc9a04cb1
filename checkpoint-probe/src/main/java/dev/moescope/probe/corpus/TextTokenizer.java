package dev.moescope.probe.corpus;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.core.error.MoescopeException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A local Hugging Face {@code tokenizer.json}, through DJL's tokenizers, configured for analysis: truncation and
 * padding off (DJL otherwise silently truncates at 512 tokens), no implicit special tokens, and BOS prepended only
 * when asked ({@code bosId >= 0}). Never reaches the network: only the path loaders are used, and DJL is kept
 * offline by the launcher and test settings. Closes its native handle.
 */
public final class TextTokenizer implements AutoCloseable {

    private final HuggingFaceTokenizer tokenizer;
    private final Path file;
    private final long bosId;
    private final int vocabularySize;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, Path file, long bosId, int vocabularySize) {
        this.tokenizer = tokenizer;
        this.file = file;
        this.bosId = bosId;
        this.vocabularySize = vocabularySize;
    }

    /**
     * Opens {@code tokenizerJson} (a file, or a directory holding {@code tokenizer.json}).
     *
     * @param bosId token id to put before every document, or -1 for none
     */
    public static TextTokenizer open(Path tokenizerJson, long bosId) {
        Path file = Files.isDirectory(tokenizerJson) ? tokenizerJson.resolve("tokenizer.json") : tokenizerJson;
        if (!Files.isRegularFile(file)) {
            throw MoescopeException.badInput(file, "no such tokenizer file");
        }
        int vocab = vocabularySize(file);
        try {
            HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(file, Map.of(
                    "truncation", "false", "padding", "false", "addSpecialTokens", "false"));
            if (bosId >= vocab) {
                t.close();
                throw MoescopeException.usage("--bos " + bosId + " is outside the tokenizer's vocabulary of " + vocab);
            }
            return new TextTokenizer(t, file, bosId, vocab);
        } catch (IOException | RuntimeException e) {
            if (e instanceof MoescopeException me) {
                throw me;
            }
            throw MoescopeException.badInput(file, "not a tokenizer DJL can load: " + e.getMessage(), e);
        }
    }

    /** Largest id in the model vocabulary and added tokens, plus one. */
    static int vocabularySize(Path file) {
        try {
            JsonObject root = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
            long max = -1;
            if (root.has("model") && root.getAsJsonObject("model").has("vocab")) {
                JsonElement vocab = root.getAsJsonObject("model").get("vocab");
                if (vocab.isJsonObject()) {
                    for (Map.Entry<String, JsonElement> e : vocab.getAsJsonObject().entrySet()) {
                        max = Math.max(max, e.getValue().getAsLong());
                    }
                } else if (vocab.isJsonArray()) { // Unigram: [[piece, score], ...], ids by position
                    max = vocab.getAsJsonArray().size() - 1;
                }
            }
            if (root.has("added_tokens")) {
                for (JsonElement t : root.getAsJsonArray("added_tokens")) {
                    max = Math.max(max, t.getAsJsonObject().get("id").getAsLong());
                }
            }
            if (max < 0) {
                throw MoescopeException.badInput(file, "tokenizer.json has no vocabulary");
            }
            return Math.toIntExact(max + 1);
        } catch (IOException e) {
            throw MoescopeException.badInput(file, "cannot read: " + e.getMessage(), e);
        } catch (MoescopeException e) {
            throw e;
        } catch (RuntimeException e) {
            throw MoescopeException.badInput(file, "not a tokenizer.json: " + e.getMessage(), e);
        }
    }

    /** Token ids of {@code text}, with BOS first if configured. */
    public long[] encode(String text) {
        Encoding enc = tokenizer.encode(text, false, false);
        long[] ids = enc.getIds();
        if (bosId < 0) {
            return ids;
        }
        long[] withBos = new long[ids.length + 1];
        withBos[0] = bosId;
        System.arraycopy(ids, 0, withBos, 1, ids.length);
        return withBos;
    }

    /**
     * The special-token ids the tokenizer's own post-processor puts before a text (e.g. a BOS), which
     * {@link #encode} leaves out unless asked with a BOS id; empty when it adds none before the text.
     */
    public long[] postProcessorPrefix() {
        long[] with = tokenizer.encode("a", true, false).getIds();
        long[] without = tokenizer.encode("a", false, false).getIds();
        for (int start = 0; start + without.length <= with.length; start++) {
            if (java.util.Arrays.equals(with, start, start + without.length, without, 0, without.length)) {
                return java.util.Arrays.copyOf(with, start);
            }
        }
        return new long[0];
    }

    /** Whether a BOS id was configured (see {@link #open}). */
    public boolean prependsBos() {
        return bosId >= 0;
    }

    /** Vocabulary size (largest id + 1) as declared by tokenizer.json. */
    public int vocabularySize() {
        return vocabularySize;
    }

    /**
     * Fails unless every id the tokenizer can produce exists in a model embedding of {@code embeddingRows} rows
     * (ids past the table would read out of bounds in Gather).
     */
    public void checkFits(int embeddingRows, Path model) {
        if (embeddingRows > 0 && vocabularySize > embeddingRows) {
            throw MoescopeException.badInput(file, "tokenizer vocabulary (" + vocabularySize
                    + " ids) is larger than the model's embedding (" + embeddingRows + " rows) in " + model);
        }
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
