package dev.moescope.probe.capture;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.fixtures.Fixtures;
import dev.moescope.probe.analysis.RoutingAnalysis;
import dev.moescope.probe.analysis.StoreRouting;
import dev.moescope.probe.corpus.CorpusReader;
import dev.moescope.probe.corpus.TextTokenizer;
import dev.moescope.probe.corpus.Window;
import dev.moescope.probe.gating.GatingConfig;
import dev.moescope.probe.graph.ModelFiles;
import dev.moescope.probe.graph.ProbeDetector;
import dev.moescope.probe.graph.ProbeSpec;
import dev.moescope.probe.run.OrtRunner;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.Identity;
import dev.moescope.store.RoutingColumns;
import dev.moescope.store.StoreVerifier;
import dev.moescope.store.TokenColumns;
import dev.moescope.store.manifest.FileEntry;
import dev.moescope.store.manifest.Manifest;
import dev.moescope.store.manifest.ShardEntry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The probe on the fixture MoE (issue acceptance): router logits found by graph surgery on the logits-only export
 * equal the explicitly exported ones, Java's top-k equals the graph's TopK, routing over the fixture corpus is
 * non-uniform and domain-dependent, and an interrupted store run resumed gives the rows of an uninterrupted one.
 */
class FixtureProbeStoreTest {

    static final GatingConfig MIXTRAL = GatingConfig.parse("mixtral", 8);

    @TempDir
    static Path dir;
    static Path hooked;
    static Path plain;
    static Path tokenizer;
    static Path corpus;

    @BeforeAll
    static void setUp() throws IOException {
        // copies: the probe writes its edited model beside the original
        hooked = copyModel(Fixtures.MOE_MODEL, "moe");
        plain = copyModel(Fixtures.MOE_LOGITS_ONLY_MODEL, "plain");
        tokenizer = Fixtures.path(Fixtures.TOKENIZER);
        corpus = Fixtures.path(Fixtures.CORPUS);
    }

    static Path copyModel(String fixture, String name) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        for (String f : List.of(Fixtures.MODEL_FILE, Fixtures.SIDECAR_FILE)) {
            Files.copy(Fixtures.path(fixture).resolve(f), d.resolve(f));
        }
        return d.resolve(Fixtures.MODEL_FILE);
    }

    static RoutingCapture capture(Path model, List<String> hooks) {
        ModelProto proto = ModelFiles.load(model);
        ProbeSpec spec = ProbeDetector.detect(proto, model);
        return RoutingCapture.openNamed(model, proto, spec, MIXTRAL, hooks, OrtRunner.Config.cpu(model, 1));
    }

    static List<List<Window>> batches(long maxTokens) {
        List<List<Window>> out = new ArrayList<>();
        try (TextTokenizer tok = TextTokenizer.open(tokenizer, 0)) {
            CorpusProbe.forEachBatch(corpus, CorpusReader.Options.defaults(), tok,
                    new CorpusProbe.Options(96, 0, 4, maxTokens), out::add);
        }
        return out;
    }

    @Test
    void routerLogitsBySurgeryEqualTheExportedOnesAndJavaTopKEqualsTheGraphs() {
        ModelProto proto = ModelFiles.load(plain);
        ProbeSpec found = ProbeDetector.detect(proto, plain);
        assertEquals("graph structure", found.source());
        assertEquals(4, found.layers().size());
        ProbeSpec named = ProbeDetector.detect(ModelFiles.load(hooked), hooked);
        for (int l = 0; l < 4; l++) {
            assertEquals("blocks." + l + ".router_logits", named.layer(l).hooks().get(ProbeSpec.ROUTER_LOGITS));
            assertNotEquals("blocks." + l + ".router_logits", found.layer(l).hooks().get(ProbeSpec.ROUTER_LOGITS));
        }
        double maxDiff = 0;
        long compared = 0;
        try (RoutingCapture surgery = capture(plain, List.of());
             RoutingCapture exported = capture(hooked, List.of())) {
            for (List<Window> b : batches(3000)) {
                CapturedBatch x = surgery.capture(b);
                CapturedBatch y = exported.capture(b);
                for (int l = 0; l < 4; l++) {
                    assertEquals(x.logits()[l].length, y.logits()[l].length);
                    for (int i = 0; i < x.logits()[l].length; i++) {
                        maxDiff = Math.max(maxDiff, Math.abs(x.logits()[l][i] - y.logits()[l][i]));
                    }
                    for (int t = 0; t < x.tokens().size(); t++) {
                        assertArrayEquals(y.experts()[l][t], x.experts()[l][t]);
                    }
                    compared += x.logits()[l].length;
                }
            }
            assertTrue(compared >= 3000 * 4 * 8, "compared " + compared + " logits");
            assertTrue(maxDiff < 1e-5, "router logits differ by " + maxDiff);
            // the logits-only graph's own TopK (found by surgery) picks exactly Java's experts, in order
            assertEquals(3000L * 4, surgery.topKChecked());
            assertEquals(0, surgery.topKMismatches());
        }
    }

    @Test
    void theExportSidecarGivesTheGatingAndADenseSidecarNone() throws IOException {
        GatingConfig g = GatingConfig.forModel(null, plain, null, 8);
        assertEquals(dev.moescope.probe.gating.GatingScheme.SOFTMAX_TOPK_RENORM, g.scheme());
        assertEquals(8, g.numExperts());
        assertEquals(2, g.topK());
        Path dense = copyModel(Fixtures.DENSE_MODEL, "dense-gating");
        var e = assertThrows(dev.moescope.core.error.MoescopeException.class,
                () -> GatingConfig.forModel(null, dense, null, 0));
        assertEquals(dev.moescope.core.error.ExitCode.BAD_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("--gating"), e.getMessage());
        assertEquals(1, GatingConfig.forModel("mixtral:k=1", dense, null, 8).topK()); // an explicit option wins
    }

    static Identity id(Path p) {
        return new Identity(p.getFileName().toString(), "");
    }

    /** Writes the corpus (up to maxTokens) into a store; {@code failAfter} > 0 throws after that many batches. */
    static CorpusProbe.Result record(Path store, long maxTokens, int failAfter, boolean resume, List<String> hooks,
                                     int shardRows) {
        return record(store, maxTokens, failAfter, resume, hooks, shardRows, false, StoreSink.DEFAULT_QUEUE);
    }

    /** As above, with full router logits on or off and the sink's queue ({@code 0}: written on this thread). */
    static CorpusProbe.Result record(Path store, long maxTokens, int failAfter, boolean resume, List<String> hooks,
                                     int shardRows, boolean fullLogits, int queue) {
        CorpusProbe.Resume from = StoreSink.prepare(store, resume);
        StoreSink sink = new StoreSink(new StoreSink.Options(store, id(plain), id(tokenizer), fullLogits, shardRows,
                resume, Provenance.start("test").build()), queue);
        int[] batches = {0};
        CaptureSink failing = b -> {
            if (failAfter > 0 && ++batches[0] > failAfter) {
                throw new IllegalStateException("simulated crash");
            }
            sink.accept(b);
        };
        try (TextTokenizer tok = TextTokenizer.open(tokenizer, 0); RoutingCapture c = capture(plain, hooks)) {
            boolean ok = false;
            try {
                CorpusProbe.Result r = CorpusProbe.run(corpus, CorpusReader.Options.defaults(), tok, c,
                        new CorpusProbe.Options(64, 8, 4, maxTokens), from, sink::document, failing);
                ok = true;
                return r;
            } finally {
                if (ok) {
                    sink.close();
                } else {
                    sink.abandon();
                }
            }
        }
    }

    @Test
    void anInterruptedRunResumedGivesTheRowsOfAnUninterruptedOne() {
        List<String> hooks = List.of("blocks.1.resid_post");
        Path whole = dir.resolve("whole");
        Path resumed = dir.resolve("resumed");
        record(whole, 6000, 0, false, hooks, 1500);
        assertThrows(IllegalStateException.class, () -> record(resumed, 6000, 12, false, hooks, 1500));
        long committed;
        try (ActivationStore s = ActivationStore.open(resumed)) {
            committed = s.rows();
            assertTrue(committed > 0 && committed < 6000, "committed before the crash: " + committed);
        }
        CorpusProbe.Result rest = record(resumed, 6000, 0, true, hooks, 1500);
        assertEquals(6000 - committed, rest.tokens());
        StoreVerifier.verify(resumed);
        try (ActivationStore a = ActivationStore.open(whole); ActivationStore b = ActivationStore.open(resumed)) {
            assertEquals(6000, a.rows());
            assertEquals(a.rows(), b.rows());
            assertEquals(a.documents(), b.documents());
            int n = (int) a.rows();
            TokenColumns ta = a.readTokens(0, n);
            TokenColumns tb = b.readTokens(0, n);
            assertArrayEquals(ta.docId(), tb.docId());
            assertArrayEquals(ta.position(), tb.position());
            assertArrayEquals(ta.tokenId(), tb.tokenId());
            assertArrayEquals(ta.domain(), tb.domain());
            for (int l = 0; l < 4; l++) {
                RoutingColumns ra = a.readRouting(l, 0, n);
                RoutingColumns rb = b.readRouting(l, 0, n);
                assertArrayEquals(ra.expertIds(), rb.expertIds());
                assertArrayEquals(ra.gateWeights(), rb.gateWeights());
            }
            assertArrayEquals(a.readHook("blocks.1.resid_post", 0, n), b.readHook("blocks.1.resid_post", 0, n));
            // positions restart at 0 per document and run without gaps (overlap context is not recorded twice)
            for (int i = 1; i < n; i++) {
                if (ta.docId()[i].equals(ta.docId()[i - 1])) {
                    assertEquals(ta.position()[i - 1] + 1, ta.position()[i]);
                } else {
                    assertEquals(0, ta.position()[i]);
                }
            }
        }
        // a second resume of a finished run records nothing and keeps the store
        assertEquals(0, record(resumed, 6000, 0, true, hooks, 1500).tokens());
        try (ActivationStore b = ActivationStore.open(resumed)) {
            assertEquals(6000, b.rows());
        }
    }

    @Test
    void writingOnTheBackgroundThreadGivesTheSameStoreByteForByte() throws IOException {
        List<String> hooks = List.of("blocks.0.resid_post", "blocks.3.resid_post");
        Path here = dir.resolve("on-caller-thread");
        Path queued = dir.resolve("queued");
        Path single = dir.resolve("queue-1");
        record(here, 9000, 0, false, hooks, 2000, true, 0);
        record(queued, 9000, 0, false, hooks, 2000, true, StoreSink.DEFAULT_QUEUE);
        record(single, 9000, 0, false, hooks, 2000, true, 1);
        Manifest expected = Manifest.read(here);
        assertEquals(9000, expected.rows());
        assertTrue(expected.shards().size() >= 4, "shards " + expected.shards().size());
        for (Path other : List.of(queued, single)) {
            Manifest m = Manifest.read(other);
            assertEquals(expected.shards(), m.shards()); // rows, documents, every file's size and CRC32C
            for (ShardEntry shard : expected.shards()) {
                for (FileEntry f : shard.files()) {
                    Path a = here.resolve(shard.directory()).resolve(f.name());
                    Path b = other.resolve(shard.directory()).resolve(f.name());
                    assertEquals(-1, Files.mismatch(a, b), b + " differs from " + a);
                }
            }
            StoreVerifier.verify(other);
        }
        // and the rows are the model's: row 0 of a hook is the capture of the first window's first token
        try (ActivationStore s = ActivationStore.open(queued); RoutingCapture c = capture(plain, hooks)) {
            CapturedBatch first = c.capture(batches(9000).get(0));
            int width = first.widths().get("blocks.3.resid_post");
            float[] stored = s.readHook("blocks.3.resid_post", 0, 2);
            float[] captured = java.util.Arrays.copyOf(first.hooks().get("blocks.3.resid_post"), 2 * width);
            assertArrayEquals(captured, stored);
            assertArrayEquals(java.util.Arrays.copyOf(first.logits()[2], 2 * 8),
                    s.readHook("blocks.2.router_logits", 0, 2));
        }
    }

    @Test
    void aFailureOnTheWritingThreadIsRethrownAndTheExistingStoreKept() {
        Path existing = dir.resolve("existing");
        record(existing, 500, 0, false, List.of(), 65_536);
        Manifest before = Manifest.read(existing);
        CapturedBatch batch;
        try (RoutingCapture c = capture(plain, List.of())) {
            batch = c.capture(batches(500).get(0));
        }
        // bypasses prepare(): creating a store over an existing one fails on the writing thread
        StoreSink sink = new StoreSink(new StoreSink.Options(existing, id(plain), id(tokenizer), false, 65_536, false,
                Provenance.start("test").build()));
        sink.document(new dev.moescope.probe.corpus.Document(batch.tokens().get(0).doc(), "d", "code", ""));
        MoescopeException e = assertThrows(MoescopeException.class, () -> {
            for (int i = 0; i < 20; i++) {
                sink.accept(batch); // the failure surfaces here once the writing thread has met it...
            }
            sink.close(); // ...or here at the latest
        });
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertTrue(e.getMessage().contains("already holds a store"), e.getMessage());
        sink.abandon();
        Manifest after = Manifest.read(existing);
        assertEquals(before.rows(), after.rows());
        assertEquals(before.shards(), after.shards());
        StoreVerifier.verify(existing);
    }

    @Test
    void routingOverTheFixtureCorpusIsNonUniformAndDomainDependent() {
        Path store = dir.resolve("all");
        CorpusProbe.Result r = record(store, 0, 0, false, List.of(), 65_536);
        assertTrue(r.tokens() > 70_000, "tokens " + r.tokens());
        RoutingAnalysis a;
        try (ActivationStore s = ActivationStore.open(store)) {
            assertEquals(r.tokens(), s.rows());
            a = StoreRouting.analyse(s, 10);
        }
        RoutingAnalysis.Summary sum = a.summary();
        assertEquals(0.25, sum.uniformShare(), 1e-12);
        Map<String, RoutingAnalysis.DomainSummary> byDomain = new HashMap<>();
        sum.domains().forEach(d -> byDomain.put(d.domain(), d));
        for (String d : Fixtures.DOMAINS) {
            RoutingAnalysis.DomainSummary ds = byDomain.get(d);
            assertNotNull(ds, d);
            System.out.printf("%s: max specialisation %.3f at layer %d expert %d%n", d, ds.maxShare(),
                    ds.maxShareLayer(), ds.maxShareExpert());
            assertTrue(ds.maxShare() > 1.6 * sum.uniformShare(), d + " max share " + ds.maxShare());
        }
        RoutingAnalysis.DomainSummary code = byDomain.get("code");
        assertTrue(code.maxShare() > 0.55, "code max share " + code.maxShare());
        for (String d : List.of("fiction", "news", "science")) {
            RoutingAnalysis.DomainSummary o = byDomain.get(d);
            assertTrue(code.maxShare() - o.maxShare() > 0.1, "code vs " + d);
            // code's favourite expert at that layer is not the prose domain's favourite
            double codeShareThere = a.load(code.maxShareLayer(), d).share(code.maxShareExpert());
            assertTrue(code.maxShare() - codeShareThere > 0.2, d + " share of code's expert " + codeShareThere);
        }
        for (RoutingAnalysis.LayerSummary l : sum.layers()) {
            assertTrue(l.load().normalizedEntropy() < 0.999, "layer " + l.layer() + " entropy");
            assertTrue(l.load().largestShare() > 0.3, "layer " + l.layer() + " largest share");
        }
    }
}
