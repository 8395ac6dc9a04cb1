package dev.moescope.store;

import dev.moescope.store.synthetic.SyntheticCorpus;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
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

    static final int TARGET_DOCS = 8000;
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
            // Kill after a random number of documents (plus a few ms, to land anywhere inside the next document's
            // writes, a shard rename or a manifest update): measured in progress, not wall time, so the test kills
            // mid-write on a fast machine and a slow one alike. At most 2000 documents an attempt keeps >= 3 kills.
            Process p = child(dir);
            int docs = 200 + random.nextInt(1800);
            int jitterMs = random.nextInt(4);
            boolean finished = !readsDocuments(p, docs);
            if (!finished) {
                Thread.sleep(jitterMs);
                p.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no finally blocks
                p.waitFor();
                kills++;
            } else {
                p.waitFor();
            }
            log.add("attempt " + attempt + " after " + docs + " documents + " + jitterMs + " ms: "
                    + (finished ? "finished" : "killed"));
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
        readsDocuments(last, Integer.MAX_VALUE); // drain its output until it ends
        assertTrue(last.waitFor(120, TimeUnit.SECONDS), "final resume finishes");
        assertEquals(0, last.exitValue());

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

    /** Reads the child's "doc N" lines until {@code n} were seen (true) or its output ended (false). */
    private static boolean readsDocuments(Process p, int n) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        int seen = 0;
        for (String line; (line = out.readLine()) != null; ) {
            if (line.startsWith("doc ") && ++seen >= n) {
                return true;
            }
        }
        return false;
    }

    private static Process child(Path dir) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--add-opens=java.base/java.nio=ALL-UNNAMED",
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), CrashingWriterMain.class.getName(),
                dir.toString(), Integer.toString(TARGET_DOCS), Long.toString(CORPUS_SEED)));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }
}
