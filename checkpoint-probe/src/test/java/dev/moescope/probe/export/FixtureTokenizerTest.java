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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The fixture tokenizer under DJL's Hugging Face tokenizers: loads offline, encodes held-out text to exactly
 * the ids of the project's Python reference encoder (so training data and Java inputs agree), prepends BOS,
 * round-trips through decode, and is not silently truncated at 512 tokens. The whole committed corpus sample
 * is checked too, through per-document token counts and SHA-256 digests of the Python ids.
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
    void djlEncodesTheWholeCorpusSampleAsThePythonReference() throws Exception {
        JsonObject doc;
        try (BufferedReader r = Files.newBufferedReader(Fixtures.path(Fixtures.TOKENIZER_HELDOUT))) {
            doc = JsonParser.parseReader(r).getAsJsonObject();
        }
        Map<String, JsonObject> expected = new HashMap<>();
        for (JsonElement e : doc.getAsJsonArray("corpus_sample")) {
            expected.put(e.getAsJsonObject().get("id").getAsString(), e.getAsJsonObject());
        }
        int documents = 0;
        long tokens = 0;
        try (HuggingFaceTokenizer tokenizer = tokenizer()) {
            for (String domain : Fixtures.DOMAINS) {
                try (BufferedReader r = Files.newBufferedReader(Fixtures.path(Fixtures.CORPUS + "/" + domain
                        + ".jsonl"))) {
                    for (String line = r.readLine(); line != null; line = r.readLine()) {
                        JsonObject row = JsonParser.parseString(line).getAsJsonObject();
                        JsonObject want = expected.get(row.get("id").getAsString());
                        long[] ids = tokenizer.encode(row.get("text").getAsString()).getIds();
                        ByteBuffer bytes = ByteBuffer.allocate(ids.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                        for (long id : ids) {
                            bytes.putInt(Math.toIntExact(id));
                        }
                        String digest = HexFormat.of().formatHex(
                                MessageDigest.getInstance("SHA-256").digest(bytes.array()));
                        assertEquals(want.get("tokens").getAsInt(), ids.length, row.get("id").getAsString());
                        assertEquals(want.get("ids_sha256_int32le").getAsString(), digest, row.get("id").getAsString());
                        documents++;
                        tokens += ids.length;
                    }
                }
            }
        }
        assertEquals(expected.size(), documents);
        System.out.println("DJL = Python reference encoder on " + documents + " documents, " + tokens + " tokens");
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
