package dev.moescope.core.provenance;

import com.google.gson.JsonObject;
import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProvenanceTest {

    @Test
    void hashesFilesLikeSha256sum(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("a.txt"), "abc", StandardCharsets.UTF_8);
        InputFile d = Hashing.describe(f);
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", d.sha256()); // FIPS 180-2
        assertEquals(3, d.bytes());
    }

    @Test
    void directoryHashChangesWhenAnyFileChanges(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a"), "1");
        Files.createDirectories(dir.resolve("sub"));
        Files.writeString(dir.resolve("sub/b"), "2");
        String before = Hashing.describe(dir).sha256();
        assertEquals(before, Hashing.describe(dir).sha256(), "stable");
        Files.writeString(dir.resolve("sub/b"), "3");
        assertNotEquals(before, Hashing.describe(dir).sha256());
        assertEquals(2, Hashing.describe(dir).bytes());
    }

    @Test
    void missingInputIsBadInputNamingTheFile(@TempDir Path dir) {
        MoescopeException e = assertThrows(MoescopeException.class, () -> Hashing.describe(dir.resolve("nope.onnx")));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("nope.onnx") && e.getMessage().contains("not found"), e.getMessage());
    }

    @Test
    void provenanceRecordsBuildParametersInputsAndEnvironment(@TempDir Path dir) throws Exception {
        Path input = Files.writeString(dir.resolve("corpus.jsonl"), "{}\n");
        Provenance p = Provenance.start("toy train").parameter("seed", 7).parameter("k", 2).input(input).build();
        JsonObject json = Json.toTree(p).getAsJsonObject();
        assertEquals("moescope", json.get("tool").getAsString());
        assertEquals("toy train", json.get("operation").getAsString());
        assertEquals("7", json.getAsJsonObject("parameters").get("seed").getAsString());
        assertEquals(Hashing.describe(input).sha256(),
                json.getAsJsonArray("inputs").get(0).getAsJsonObject().get("sha256").getAsString());
        assertTrue(json.getAsJsonObject("environment").has("java"));
        assertTrue(json.get("version").getAsString().contains("."), "version read from the build");
        assertTrue(!p.finishedNow().finished().isBefore(p.started()));
    }
}
