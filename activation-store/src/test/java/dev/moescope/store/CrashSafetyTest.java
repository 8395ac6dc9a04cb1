package dev.moescope.store;

import dev.moescope.store.synthetic.SyntheticCorpus;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kills a writing child JVM with SIGKILL at random moments, again and again, and checks after every kill that
 * the store opens and verifies, that committed documents never go backwards, and at the end (after an uninterrupted
 * resume) that every document is present exactly once with its exact values: nothing lost, nothing duplicated.
 */
@Tag("slow")
class CrashSafetyTest {

    static final int TARGET_DOCS = 2500;
    static final long CORPUS_SEED = 11;

    @TempDir
    Path tmp;

    static StoreSpec spec() {
        return StoreSpec.builder(TestStores.MODEL, TestStores.TOKENIZER)
                .hook("blocks.0.resid_post", 32)
                .hook("blocks.1.moe_out", 16)
                .routing(1, 2, 8)
                .tokenText(true)
                .shardRows(2000)
                .batchRows(256)
                .build();
    }

    @Test
    void sigkillAtRandomMomentsLosesAndDuplicatesNothing() throws Exception {
        Path dir = tmp.resolve("store");
        Random random = new Random(20261122L);
        long committed = 0;
        int kills = 0;
        List<String> log = new ArrayList<>();
        for (int attempt = 0; attempt < 8; attempt++) {
            Process p = child(dir);
            long delay = 700 + random.nextInt(1800);
            boolean finished = p.waitFor(delay, TimeUnit.MILLISECONDS);
            if (!finished) {
                p.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no finally blocks
                p.waitFor();
                kills++;
            }
            log.add("attempt " + attempt + " after " + delay + " ms: " + (finished ? "finished" : "killed"));
            if (!StoreWriter.exists(dir)) {
                continue; // killed before the manifest was first written
            }
            StoreVerifier.Report report = StoreVerifier.verify(dir);
            try (ActivationStore store = ActivationStore.open(dir)) {
                assertTrue(store.documents() >= committed, "committed documents went backwards: " + log);
                committed = store.documents();
                log.add("  committed " + committed + " docs, " + report.rows() + " rows, leftovers " + report.uncommitted());
            }
            if (finished) {
                break;
            }
        }
        System.out.println("crash safety: " + String.join("\n", log));
        assertTrue(kills >= 3, "the child should have been killed mid-write several times: " + log);
        Process last = child(dir);
        assertTrue(last.waitFor(120, TimeUnit.SECONDS), "final resume finishes");
        assertEquals(0, last.exitValue(), new String(last.getInputStream().readAllBytes()));

        StoreVerifier.Report report = StoreVerifier.verify(dir);
        assertTrue(report.uncommitted().isEmpty(), "resume cleaned up: " + report.uncommitted());
        SyntheticCorpus corpus = SyntheticCorpus.small(CORPUS_SEED);
        StoreSpec spec = spec();
        try (ActivationStore store = ActivationStore.open(dir)) {
            assertEquals(TARGET_DOCS, store.documents(), String.join("\n", log));
            assertEquals(corpus.rowsOf(TARGET_DOCS), store.rows());
            long row = 0;
            for (int d = 0; d < TARGET_DOCS; d++) {
                SyntheticCorpus.Document doc = corpus.document(d);
                int n = doc.tokenIds().length;
                TokenColumns t = store.readTokens(row, n);
                assertEquals(doc.id(), t.docId()[0]);
                assertEquals(d, t.docIndex()[n - 1]);
                assertArrayEquals(doc.tokenIds(), t.tokenId());
                float[] want = corpus.rows(spec, doc).hooks().get("blocks.1.moe_out");
                assertArrayEquals(want, store.readHook("blocks.1.moe_out", row, n), "document " + d);
                row += n;
            }
        }
    }

    private static Process child(Path dir) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--add-opens=java.base/java.nio=ALL-UNNAMED",
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), CrashingWriterMain.class.getName(),
                dir.toString(), Integer.toString(TARGET_DOCS), Long.toString(CORPUS_SEED)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.redirectOutput(Files.createTempFile("crash-child", ".log").toFile());
        return pb.start();
    }
}
