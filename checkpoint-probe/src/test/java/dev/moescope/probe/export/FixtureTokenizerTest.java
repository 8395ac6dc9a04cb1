package dev.moescope.probe.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.fixtures.Fixtures;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/**
 * The fixture tokenizer under DJL's Hugging Face tokenizers: loads offline, encodes held-out text to exactly
 * the ids of the project's Python reference encoder (so training data and Java inputs agree), prepends BOS,
 * round-trips through decode, and is not silently truncated at 512 tokens.
 */
class FixtureTokenizerTest {

    /** The tokenizer configured for analysis: BOS added, no truncation, no padding. */
    static HuggingFaceTokenizer tokenizer() throws IOException {
        return HuggingFaceTokenizer.builder()
                .optTokenizerPath(Fixtures.path(Fixtures.TOKENIZER))
                .optAddSpecialTokens(true)
                .optTruncation(false)
                .optPadding(false)
                .build();
    }

    @Test
    void djlEncodesHeldOutTextExactlyAsThePythonReference() throws Exception {
        JsonObject doc;
        try (BufferedReader r = Files.newBufferedReader(Fixtures.path(Fixtures.TOKENIZER_HELDOUT))) {
            doc = JsonParser.parseReader(r).getAsJsonObject();
        }
        long bos = doc.get("bos_id").getAsLong();
        int cases = 0;
        try (HuggingFaceTokenizer tokenizer = tokenizer()) {
            for (JsonElement e : doc.getAsJsonArray("cases")) {
                JsonObject c = e.getAsJsonObject();
                String text = c.get("text").getAsString();
                long[] expected = c.getAsJsonArray("ids").asList().stream().mapToLong(JsonElement::getAsLong)
                        .toArray();
                Encoding encoding = tokenizer.encode(text);
                assertArrayEquals(expected, encoding.getIds(), "ids of " + c.get("domain") + " text: " + text);
                assertEquals(bos, encoding.getIds()[0]);
                assertEquals(text, tokenizer.decode(encoding.getIds(), true), "byte-level round trip");
                cases++;
            }
        }
        assertTrue(cases >= 12, "only " + cases + " cases");
    }

    @Test
    void longDocumentsAreNotTruncated() throws Exception {
        StringBuilder text = new StringBuilder();
        try (BufferedReader r = Files.newBufferedReader(Fixtures.path(Fixtures.CORPUS + "/news.jsonl"))) {
            for (int i = 0; i < 3; i++) {
                text.append(JsonParser.parseString(r.readLine()).getAsJsonObject().get("text").getAsString());
            }
        }
        try (HuggingFaceTokenizer tokenizer = tokenizer()) {
            long[] ids = tokenizer.encode(text.toString()).getIds();
            assertTrue(ids.length > 1024, "got " + ids.length + " tokens");
            assertEquals(text.toString(), tokenizer.decode(ids, true));
        }
    }
}
