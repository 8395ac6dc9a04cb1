package dev.moescope.cli.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.cli.CliRun;
import dev.moescope.cli.probe.ProbeInspectCommandTest;
import dev.moescope.cli.probe.ProbeLensCommandTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code moescope bench probe-capture} runs both loops over the same tokens and reports both throughputs. */
class ProbeCaptureBenchTest {

    @Test
    void reportsBareAndCaptureThroughputs(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("lm.onnx");
        Files.write(model, ProbeLensCommandTest.moeLm().toByteArray());
        Path tokenizer = dir.resolve("tokenizer.json");
        Files.writeString(tokenizer, "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[],"
                + "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Whitespace\"},\"post_processor\":null,"
                + "\"decoder\":null,\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"[UNK]\":0,\"a\":1,\"b\":2},"
                + "\"unk_token\":\"[UNK]\"}}");
        Path corpus = dir.resolve("c.jsonl");
        Files.writeString(corpus, "{\"text\":\"a b a b a a b\",\"domain\":\"x\"}\n".repeat(20));
        Path out = dir.resolve("out");
        CliRun r = ProbeInspectCommandTest.run("bench", "probe-capture", model.toString(),
                "--tokenizer", tokenizer.toString(), "--corpus", corpus.toString(), "--seq-len", "8", "--batch", "4",
                "--max-tokens", "100", "--repeats", "1", "--no-progress", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("bare ORT (logits only):"), r.out());
        assertTrue(r.out().contains("capture + store:"), r.out());
        assertTrue(r.out().contains("overhead vs bare:"), r.out());
        JsonObject s = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject();
        assertEquals(100, s.get("tokens").getAsLong());
        assertTrue(s.get("bareTokensPerSecond").getAsDouble() > 0);
        assertTrue(s.get("captureTokensPerSecond").getAsDouble() > 0);
        assertTrue(s.get("captureAndStoreTokensPerSecond").getAsDouble() > 0);
    }
}
