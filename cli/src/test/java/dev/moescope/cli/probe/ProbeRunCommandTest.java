package dev.moescope.cli.probe;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.cli.CliRun;
import dev.moescope.fixtures.Fixtures;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.stream.HookBatch;
import dev.moescope.store.stream.PairedStores;
import dev.moescope.store.stream.ShuffleConfig;
import dev.moescope.store.stream.ShuffledBatches;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.moescope.cli.probe.ProbeInspectCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code moescope probe run} and {@code probe analyze} end to end on the fixture models: the MoE (logits-only
 * export, router found by graph surgery) and its dense twin recorded on the same tokens, the store checked by
 * {@code store verify} and read in pairs, the analysis report, and the bad-input list of the issue.
 */
class ProbeRunCommandTest {

    @TempDir
    static Path dir;
    static Path moe;
    static Path hookedMoe;
    static Path dense;
    static Path tokenizer;
    static Path corpus;
    static Path moeStore;
    static Path denseStore;
    static CliRun moeRun;

    @BeforeAll
    static void setUp() throws IOException {
        moe = copyModel(Fixtures.MOE_LOGITS_ONLY_MODEL, "moe");
        hookedMoe = copyModel(Fixtures.MOE_MODEL, "moe-hooked");
        dense = copyModel(Fixtures.DENSE_MODEL, "dense");
        tokenizer = Fixtures.path(Fixtures.TOKENIZER);
        // the first three documents of each domain: every domain, ~10k tokens
        corpus = Files.createDirectories(dir.resolve("corpus"));
        for (String d : Fixtures.DOMAINS) {
            List<String> lines = new ArrayList<>();
            try (BufferedReader r = Files.newBufferedReader(Fixtures.path(Fixtures.CORPUS + "/" + d + ".jsonl"))) {
                for (int i = 0; i < 3; i++) {
                    lines.add(r.readLine());
                }
            }
            Files.write(corpus.resolve(d + ".jsonl"), lines);
        }
        moeStore = dir.resolve("moe-store");
        denseStore = dir.resolve("dense-store");
        moeRun = run("probe", "run", "--model", moe.toString(), "--tokenizer", tokenizer.toString(),
                "--corpus", corpus.toString(), "--bos", "0", "--seq-len", "128", "--batch", "4", "--full-logits",
                "--hooks", "blocks.*.resid_post", "--out", moeStore.toString(), "--no-progress");
    }

    static Path copyModel(String fixture, String name) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        for (String f : List.of(Fixtures.MODEL_FILE, Fixtures.SIDECAR_FILE)) {
            Files.copy(Fixtures.path(fixture).resolve(f), d.resolve(f));
        }
        return d.resolve(Fixtures.MODEL_FILE);
    }

    static String[] probeRun(Path model, Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("probe", "run", "--model", model.toString(), "--tokenizer",
                tokenizer.toString(), "--corpus", corpus.toString(), "--bos", "0", "--seq-len", "128", "--batch", "4",
                "--out", out.toString(), "--no-progress"));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void aFullRunWritesAStoreThatVerifyAcceptsWithProvenance() throws IOException {
        assertEquals(0, moeRun.code(), moeRun.err());
        assertTrue(moeRun.out().contains("12 documents"), moeRun.out());
        // the logits-only graph's TopK was found and agrees with Java on every token-layer
        assertTrue(moeRun.out().matches("(?s).*Java top-k = graph TopK on (\\d+)/\\1 token-layers.*"), moeRun.out());
        CliRun verify = run("store", "verify", moeStore.toString());
        assertEquals(0, verify.code(), verify.err());
        assertTrue(verify.out().startsWith("ok:"), verify.out());
        try (ActivationStore s = ActivationStore.open(moeStore)) {
            assertEquals(12, s.documents());
            assertTrue(s.rows() > 5000, "rows " + s.rows());
            assertEquals(4, s.routing().size());
            assertNotNull(s.hook("blocks.3.resid_post"));
            assertEquals(8, s.hook("blocks.0.router_logits").width());
            assertEquals(org.junit.jupiter.api.Assertions.assertDoesNotThrow(
                    () -> dev.moescope.core.provenance.Hashing.describe(moe).sha256()), s.model().sha256());
        }
        JsonObject summary = JsonParser.parseString(Files.readString(moeStore.resolve("summary.json"))).getAsJsonObject();
        assertEquals(3, summary.getAsJsonObject("provenance").getAsJsonArray("inputs").size()); // model, tokenizer, corpus
        assertEquals(0, summary.get("graphTopKMismatches").getAsLong());
    }

    @Test
    void analyzeReportsDomainDependentRoutingAndAgreementWithTheHookedExport() throws IOException {
        assertEquals(0, moeRun.code(), moeRun.err());
        Path hookedStore = dir.resolve("hooked-store");
        CliRun h = run(probeRun(hookedMoe, hookedStore, "--hooks", "none"));
        assertEquals(0, h.code(), h.err());
        Path out = dir.resolve("analysis");
        CliRun a = run("probe", "analyze", moeStore.toString(), "--compare", hookedStore.toString(),
                "--out", out.toString());
        assertEquals(0, a.code(), a.err());
        for (String f : List.of("summary.json", "expert_load.csv", "layer_metrics.csv", "coactivation.csv",
                "consecutive.csv", "vocabulary.csv", "agreement.csv", "largest_share_by_layer.png",
                "domain_specialisation_layer0.png")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        JsonObject s = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject();
        // the same weights exported twice: identical routing on every layer
        for (var layer : s.getAsJsonObject("agreement").getAsJsonArray("layers")) {
            assertEquals(1.0, layer.getAsJsonObject().get("top1Agreement").getAsDouble(), 1e-12);
        }
        double codeMax = 0;
        double otherMax = 0;
        for (var d : s.getAsJsonObject("summary").getAsJsonArray("domains")) {
            JsonObject o = d.getAsJsonObject();
            String name = o.get("domain").getAsString();
            double max = o.get("maxShare").getAsDouble();
            if (name.equals("code")) {
                codeMax = max;
            } else if (!name.equals("all")) {
                otherMax = Math.max(otherMax, max);
                assertTrue(max > 0.35, name + " max share " + max); // uniform is k/E = 0.25
            }
        }
        assertTrue(codeMax > 0.5 && codeMax > otherMax + 0.05, "code " + codeMax + " vs others " + otherMax);
        // full logits were recorded, so router confidence is reported
        assertTrue(s.getAsJsonObject("summary").getAsJsonArray("layers").get(0).getAsJsonObject().has("confidence"));
    }

    @Test
    void theDenseTwinRecordsHooksOnTheSameTokensAndPairsWithTheMoeStore() {
        assertEquals(0, moeRun.code(), moeRun.err());
        CliRun d = run(probeRun(dense, denseStore, "--no-routing", "--hooks", "resid_post,mlp_out"));
        assertEquals(0, d.code(), d.err());
        assertTrue(d.out().contains("not recorded (--no-routing)"), d.out());
        assertEquals(0, run("store", "verify", denseStore.toString()).code());
        try (PairedStores pair = PairedStores.open(List.of(moeStore, denseStore))) {
            assertTrue(pair.stores().get(1).routing().isEmpty());
            assertNotNull(pair.stores().get(1).hook("blocks.2.mlp_out"));
            try (ShuffledBatches b = pair.shuffled(List.of("blocks.2.resid_post", "blocks.2.resid_post"),
                    ShuffleConfig.training(256, 7))) {
                HookBatch batch = b.next();
                assertNotNull(batch);
                assertEquals(batch.values(0).length, batch.values(1).length);
                assertFalse(java.util.Arrays.equals(batch.values(0), batch.values(1)), "two models, two residuals");
            }
        }
    }

    @Test
    void resumeContinuesAfterTheLastCommittedDocumentAndMatchesAOneGoRun() {
        assertEquals(0, moeRun.code(), moeRun.err());
        Path partial = dir.resolve("partial-store");
        // a first run that stopped after 5 documents (committed in shards of ~1000 rows)
        assertEquals(0, run(probeRun(moe, partial, "--full-logits", "--max-docs", "5", "--shard-rows", "1000")).code());
        CliRun rest = run(probeRun(moe, partial, "--full-logits", "--resume", "--shard-rows", "1000"));
        assertEquals(0, rest.code(), rest.err());
        assertTrue(rest.out().startsWith("resumed after fiction.jsonl:2: 7 documents"), rest.out());
        assertEquals(0, run("store", "verify", partial.toString()).code());
        try (ActivationStore a = ActivationStore.open(moeStore); ActivationStore b = ActivationStore.open(partial)) {
            assertEquals(a.rows(), b.rows());
            assertEquals(a.documents(), b.documents());
            assertTrue(b.manifest().shards().size() > 2, "shards " + b.manifest().shards().size());
            int n = (int) a.rows();
            assertArrayEquals(a.readTokens(0, n).docId(), b.readTokens(0, n).docId());
            assertArrayEquals(a.readTokens(0, n).tokenId(), b.readTokens(0, n).tokenId());
            for (int l = 0; l < 4; l++) {
                assertArrayEquals(a.readRouting(l, 0, n).expertIds(), b.readRouting(l, 0, n).expertIds());
            }
            assertArrayEquals(a.readHook("blocks.3.router_logits", 0, n), b.readHook("blocks.3.router_logits", 0, n));
        }
    }

    @Test
    void badInputIsOneLineExitThreeAndLeavesAStoreIntact() throws IOException {
        assertEquals(0, moeRun.code(), moeRun.err());
        Path out = dir.resolve("never");
        check(run(probeRun(Path.of("/no/such.onnx"), out)), "/no/such.onnx");
        check(run(probeRun(dense, out)), "--spec"); // no router
        check(run(probeRun(dense, out)), "for a dense model pass --no-routing");
        Path bigVocab = dir.resolve("big-tokenizer.json");
        Files.writeString(bigVocab, "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[],"
                + "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Whitespace\"},\"post_processor\":null,"
                + "\"decoder\":null,\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"[UNK]\":0,\"the\":5000},"
                + "\"unk_token\":\"[UNK]\"}}");
        String[] args = probeRun(moe, out);
        args[5] = bigVocab.toString();
        check(run(args), "larger than the model's embedding");
        Path empty = dir.resolve("empty.jsonl");
        Files.writeString(empty, "");
        args = probeRun(moe, out);
        args[7] = empty.toString();
        check(run(args), empty.toString());
        check(run(probeRun(moe, out, "--domain-field", "topic")), "no string field 'topic'");
        check(run(probeRun(moe, out, "--domain-field", "topic")), "or --domain-field none if the corpus has no domains");
        CliRun cuda = run(probeRun(moe, out, "--device", "cuda"));
        if (cuda.code() != 0) { // a machine with a working CUDA provider would simply run
            check(cuda, "CUDA");
        }
        assertFalse(Files.exists(out.resolve("manifest.json")), "a failed run wrote a store");

        // an existing store: a second run without --resume, and a failing --resume, leave it as it was
        byte[] manifest = Files.readAllBytes(moeStore.resolve("manifest.json"));
        // the wrong --out is a usage error (exit 2), the same code every command gives for a previous run
        CliRun again0 = run(probeRun(moe, moeStore));
        assertEquals(2, again0.code(), again0.err());
        assertTrue(again0.err().contains(moeStore + ": already holds a store") && again0.err().contains("--resume"),
                again0.err());
        check(run(probeRun(moe, moeStore, "--resume", "--domain-field", "topic", "--full-logits")), "topic");
        assertArrayEquals(manifest, Files.readAllBytes(moeStore.resolve("manifest.json")));
        assertEquals(0, run("store", "verify", moeStore.toString()).code());
        // resuming a finished run finds nothing left to do
        CliRun again = run(probeRun(moe, moeStore, "--resume", "--full-logits"));
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("0 documents, 0 tokens"), again.out());
        assertArrayEquals(manifest, Files.readAllBytes(moeStore.resolve("manifest.json")));
    }

    /**
     * The fixture tokenizer's post-processor prepends BOS (id 0), which moescope only adds with --bos: without it,
     * the run still works but says so once with its results; with it, no note.
     */
    @Test
    void aTokenizerThatAddsBosGetsANoteWithoutBos() {
        assertTrue(moeRun.out().lines().noneMatch(l -> l.contains("note:")), moeRun.out());
        CliRun noBos = run("probe", "run", "--model", dense.toString(), "--no-routing", "--tokenizer",
                tokenizer.toString(), "--corpus", corpus.toString(), "--max-docs", "2", "--seq-len", "128",
                "--out", dir.resolve("no-bos-store").toString(), "--no-progress");
        assertEquals(0, noBos.code(), noBos.err());
        List<String> notes = noBos.out().lines().filter(l -> l.contains("note:")).toList();
        assertEquals(1, notes.size(), noBos.out());
        assertTrue(notes.get(0).contains("--bos 0") && notes.get(0).contains("tokenizer.json"), notes.get(0));
    }

    static void check(CliRun r, String mention) {
        assertEquals(3, r.code(), r.out() + r.err());
        String message = r.err().lines().filter(l -> l.startsWith("moescope: ")).reduce((a, b) -> b).orElse("");
        assertTrue(message.contains(mention), "expected '" + mention + "' in: " + r.err());
        assertEquals(1, r.err().lines().filter(l -> l.startsWith("moescope: ")).count(), r.err());
    }
}
