package dev.moescope.store;

import dev.moescope.core.provenance.Hashing;
import dev.moescope.store.synthetic.SyntheticCorpus;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.moescope.store.StoreWriterTest.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Each kind of damage gives a one-line bad-input error (exit 3) naming the file at fault, and reading a damaged
 * store changes nothing on disk.
 */
class StoreBadInputTest {

    @TempDir
    Path tmp;
    Path dir;

    @BeforeEach
    void writeStore() {
        dir = tmp.resolve("store");
        TestStores.write(dir, TestStores.spec().build(), SyntheticCorpus.small(6), 30);
    }

    @Test
    void truncatedArrowFile() throws Exception {
        Path f = dir.resolve("shard-00001/blocks.1.moe_out.arrow");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(raf.length() - 100);
        }
        String before = Hashing.describe(dir).sha256();
        assertRefused(() -> ActivationStore.open(dir), f + ": truncated");
        assertRefused(() -> StoreVerifier.verify(dir), f.toString());
        assertEquals(before, Hashing.describe(dir).sha256(), "nothing changed on disk");
    }

    @Test
    void corruptedBytesFailTheChecksum() throws Exception {
        Path f = dir.resolve("shard-00000/blocks.0.resid_post.arrow");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.seek(raf.length() / 2);
            raf.write(new byte[]{1, 2, 3, 4, 5, 6, 7, 8});
        }
        assertRefused(() -> StoreVerifier.verify(dir), f + ": checksum mismatch in shard 0");
    }

    @Test
    void corruptedFooterIsNamed() throws Exception {
        Path f = dir.resolve("shard-00000/tokens.arrow");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.seek(raf.length() - 10);
            raf.write(new byte[]{9, 9, 9, 9, 9, 9, 9, 9, 9, 9});
        }
        try (ActivationStore s = ActivationStore.open(dir)) {
            assertRefused(() -> s.readTokens(0, 5), f.toString());
            // other files of the store still read
            assertEquals(16 * 5, s.readHook("blocks.0.resid_post", 0, 5).length);
        }
    }

    @Test
    void missingShard() throws Exception {
        Path shard = dir.resolve("shard-00001");
        Files.move(shard, tmp.resolve("elsewhere"));
        assertRefused(() -> ActivationStore.open(dir), shard + ": shard 1 listed in the manifest is missing");
    }

    @Test
    void manifestEditedByHand() throws Exception {
        Path m = dir.resolve("manifest.json");
        String text = Files.readString(m);
        Files.writeString(m, text.replaceFirst("\"rows\": (\\d+)", "\"rows\": 7"));
        assertRefused(() -> ActivationStore.open(dir), m + ": inconsistent manifest");
        Files.writeString(m, text.substring(0, text.length() / 2));
        assertRefused(() -> ActivationStore.open(dir), m + ": malformed JSON");
        Files.writeString(m, text.replace("\"width\": 16", "\"width\": 17"));
        try (ActivationStore s = ActivationStore.open(dir)) {
            assertRefused(() -> s.readHook("blocks.0.resid_post", 0, 1), "blocks.0.resid_post.arrow: file describes hook");
        }
    }

    @Test
    void newerFormatVersion() throws Exception {
        Path m = dir.resolve("manifest.json");
        Files.writeString(m, Files.readString(m).replace("\"formatVersion\": 1", "\"formatVersion\": 2"));
        assertRefused(() -> ActivationStore.open(dir), m + ": store format version 2 is newer");
    }

    @Test
    void wrongHookName() {
        try (ActivationStore s = ActivationStore.open(dir)) {
            assertRefused(() -> s.readHook("blocks.7.resid_post", 0, 1),
                    "no hook 'blocks.7.resid_post' in this store (hooks: blocks.0.resid_post, blocks.1.moe_out, blocks.1.router_logits)");
        }
    }

    @Test
    void notAStore() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertRefused(() -> ActivationStore.open(empty), "not an activation store");
        Files.writeString(empty.resolve("manifest.json"), "{\"format\": \"something-else\"}", StandardCharsets.UTF_8);
        assertRefused(() -> ActivationStore.open(empty), "not an activation store manifest");
    }
}
