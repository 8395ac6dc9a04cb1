package dev.moescope.cli.report;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the {@code #id} tokens of top-activating contexts (stores keep token ids, not strings) back into text
 * with the tokenizer the store was recorded with, so a reader sees words. Without a tokenizer the ids stay.
 */
final class TokenText implements AutoCloseable {

    private static final Pattern ID = Pattern.compile("#(\\d+)");

    private final HuggingFaceTokenizer tokenizer;

    private TokenText(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Opens {@code tokenizerJson}; null or unreadable gives a decoder that keeps ids. */
    static TokenText open(Path tokenizerJson) {
        if (tokenizerJson == null || !Files.isRegularFile(tokenizerJson)) {
            return new TokenText(null);
        }
        try {
            return new TokenText(HuggingFaceTokenizer.newInstance(tokenizerJson,
                    Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "false")));
        } catch (Exception e) {
            return new TokenText(null);
        }
    }

    boolean decodes() {
        return tokenizer != null;
    }

    /** The text of one {@code #id} token (or the token string unchanged if it is not an id). */
    String token(String token) {
        Matcher m = ID.matcher(token == null ? "" : token);
        if (tokenizer == null || !m.matches()) {
            return token;
        }
        try {
            return tokenizer.decode(new long[] {Long.parseLong(m.group(1))}, false);
        } catch (RuntimeException e) {
            return token;
        }
    }

    @Override
    public void close() {
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}
