package dev.moescope.probe.capture;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.probe.analysis.RoutingAnalysis;
import dev.moescope.probe.corpus.CorpusReader;
import dev.moescope.probe.corpus.TextTokenizer;
import dev.moescope.probe.gating.Gate;
import dev.moescope.probe.gating.GatingConfig;
import dev.moescope.probe.gating.Routing;
import dev.moescope.probe.graph.ModelFiles;
import dev.moescope.probe.graph.ProbeDetector;
import dev.moescope.probe.graph.ProbeSpec;
import dev.moescope.probe.run.OrtRunner;
import dev.moescope.probe.testgraphs.OnnxGraphBuilder;
import dev.moescope.probe.testgraphs.TinyMoeGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static dev.moescope.probe.testgraphs.TinyMoeGraph.E;
import static dev.moescope.probe.testgraphs.TinyMoeGraph.H;
import static dev.moescope.probe.testgraphs.TinyMoeGraph.V;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Corpus → tokenizer → windows → batches → capture → routing analysis, on the Java-built MoE graph. The graph
 * routes each token independently of its neighbours, so the expected routing of every corpus token is the Java
 * reference routing of its id: counts, hooks and predictions must match it exactly, overlap must not double-count.
 */
class CorpusProbeTest {

    static final TinyMoeGraph NET = new TinyMoeGraph(11);
    static final String[] WORDS = {"[UNK]", "def", "return", "self", "(", ")", ":", "import", "the", "of", "and",
            "to", "a", "in", "is", "was"};

    @TempDir
    static Path dir;
    static Path model;
    static Path tokenizer;
    static Path corpus;

    @BeforeAll
    static void setUp() throws Exception {
        model = dir.resolve("moe.onnx");
        OnnxGraphBuilder.write(NET.model(), model, false);
        tokenizer = dir.resolve("tokenizer.json");
        StringBuilder vocab = new StringBuilder();
        for (int i = 0; i < WORDS.length; i++) {
            vocab.append(i == 0 ? "" : ",").append('"').append(WORDS[i]).append("\":").append(i);
        }
        Files.writeString(tokenizer, "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[],"
                + "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Whitespace\"},\"post_processor\":null,"
                + "\"decoder\":null,\"model\":{\"type\":\"WordLevel\",\"vocab\":{" + vocab + "},\"unk_token\":\"[UNK]\"}}");
        corpus = dir.resolve("corpus.jsonl");
        Files.writeString(corpus, String.join("\n",
                "{\"text\":\"def f ( self ) : return self\",\"domain\":\"code\"}",
                "{\"text\":\"import a def g ( ) : return\",\"domain\":\"code\"}",
                "{\"text\":\"the end of the day was a day in the city and the night\",\"domain\":\"prose\"}",
                "{\"text\":\"it is to the point\",\"domain\":\"prose\"}",
                "{\"text\":\"ignored by the domain filter\",\"domain\":\"math\"}") + "\n");
    }

    /** Expected top-2 of a token id at a layer, from the Java reference. */
    static int[] expected(long id, int layer) {
        float[] logits = NET.reference(new long[]{id}, 2).routerLogits[layer];
        Routing r = new Gate(GatingConfig.parse("mixtral", E)).route(logits, 0, layer);
        return r.experts();
    }

    @Test
    void capturesEveryCorpusTokenOnceWithTheReferenceRouting() throws Exception {
        ModelProto proto = ModelFiles.load(model);
        ProbeSpec spec = ProbeDetector.detect(proto, model);
        GatingConfig gating = GatingConfig.parse(spec.gating(), 0);
        RoutingAnalysis analysis = new RoutingAnalysis(E, 2, 1);
        List<CapturedBatch> batches = new ArrayList<>();
        CorpusReader.Options read = new CorpusReader.Options("text", "domain", Set.of("code", "prose"), 0);
        CorpusProbe.Result result;
        try (TextTokenizer tok = TextTokenizer.open(tokenizer, -1);
             RoutingCapture cap = RoutingCapture.open(model, proto, spec, gating, List.of(ProbeSpec.RESID_POST),
                     OrtRunner.Config.cpu(model, 1))) {
            tok.checkFits(ProbeDetector.embeddingRows(proto), model);
            result = CorpusProbe.run(corpus, read, tok, cap, new CorpusProbe.Options(5, 2, 3, 0), b -> {
                batches.add(b);
                new AnalysisSink(analysis, true).accept(b);
            });
        }
        // 8 + 8 + 14 + 5 tokens ("f", "g", "day", "city", "night", "it", "point" are [UNK] = 0)
        assertEquals(4, result.documents());
        assertEquals(35, result.tokens());
        assertEquals(0, result.topKMismatches());
        assertEquals(35L * 2, result.topKChecked());
        long[][] expectedCounts = new long[2][E];
        int seen = 0;
        for (CapturedBatch b : batches) {
            for (int i = 0; i < b.tokens().size(); i++) {
                CapturedBatch.Token t = b.tokens().get(i);
                TinyMoeGraph.Reference ref = NET.reference(new long[]{t.tokenId()}, 2);
                for (int l = 0; l < 2; l++) {
                    assertArrayEquals(expected(t.tokenId(), l), b.experts()[l][i], "token " + t);
                    for (int x : b.experts()[l][i]) {
                        expectedCounts[l][x]++;
                    }
                    float[] post = b.hooks().get("blocks." + l + ".resid_post");
                    for (int j = 0; j < H; j++) {
                        assertEquals(ref.residPost[l][j], post[i * H + j], 1e-4);
                    }
                }
                int argmax = 0;
                for (int v = 1; v < V; v++) {
                    argmax = ref.logits[v] > ref.logits[argmax] ? v : argmax;
                }
                assertEquals(argmax, t.predictedId());
                seen++;
            }
        }
        assertEquals(35, seen);
        for (int l = 0; l < 2; l++) {
            for (int x = 0; x < E; x++) {
                assertEquals(expectedCounts[l][x], analysis.load(l).count(x), "layer " + l + " expert " + x);
            }
        }
        assertEquals(8 + 8, analysis.load(0, "code").tokens());
        assertEquals(14 + 5, analysis.load(0, "prose").tokens());
        // consecutive pairs: every document's adjacent tokens, across window boundaries: 7 + 7 + 13 + 4
        assertEquals(31, analysis.consecutive(0).pairs());
        // first document positions 0..7 in order, next ids are the following token
        List<CapturedBatch.Token> first = batches.get(0).tokens().stream().filter(t -> t.doc() == 0).toList();
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), first.stream().map(CapturedBatch.Token::position).toList());
        assertEquals(2L, first.get(5).nextTokenId()); // ":" is followed by "return"
        assertEquals(-1L, first.get(7).nextTokenId());
    }

    @Test
    void maxTokensStopsMidDocument() throws Exception {
        ModelProto proto = ModelFiles.load(model);
        ProbeSpec spec = ProbeDetector.detect(proto, model);
        long[] got = {0};
        try (TextTokenizer tok = TextTokenizer.open(tokenizer, 1);
             RoutingCapture cap = RoutingCapture.open(model, proto, spec, GatingConfig.parse(spec.gating(), 0),
                     List.of(), OrtRunner.Config.cpu(model, 1))) {
            CorpusProbe.Result r = CorpusProbe.run(corpus, CorpusReader.Options.defaults(), tok, cap,
                    new CorpusProbe.Options(4, 0, 2, 11), b -> {
                        got[0] += b.tokens().size();
                        // BOS (id 1, "def") leads every document
                        b.tokens().stream().filter(t -> t.position() == 0).forEach(t -> assertEquals(1L, t.tokenId()));
                    });
            assertEquals(11, r.tokens());
            assertEquals(2, r.documents());
        }
        assertEquals(11, got[0]);
    }

    @Test
    void tokenizerKeepsLongDocumentsWholeAndChecksTheEmbedding() throws Exception {
        try (TextTokenizer tok = TextTokenizer.open(tokenizer, -1)) {
            String text = "the ".repeat(1500);
            assertEquals(1500, tok.encode(text).length, "no silent truncation at 512");
            assertEquals(16, tok.vocabularySize());
            tok.checkFits(16, model);
            MoescopeException e = assertThrows(MoescopeException.class, () -> tok.checkFits(12, model));
            assertEquals(ExitCode.BAD_INPUT, e.exitCode());
            assertTrue(e.getMessage().contains("larger than the model's embedding (12 rows)"), e.getMessage());
        }
        assertEquals(V, ProbeDetector.embeddingRows(ModelFiles.load(model)));
        Path missing = dir.resolve("none.json");
        assertEquals(missing + ": no such tokenizer file",
                assertThrows(MoescopeException.class, () -> TextTokenizer.open(missing, -1)).getMessage());
    }

    @Test
    void corpusErrorsNameTheFileAndLine() throws Exception {
        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, "{\"text\":\"a\",\"domain\":\"x\"}\n{\"body\":\"b\"}\n");
        MoescopeException e = assertThrows(MoescopeException.class,
                () -> CorpusReader.read(bad, CorpusReader.Options.defaults(), d -> true));
        assertTrue(e.getMessage().startsWith(bad + ": line 2: no string field 'text'"), e.getMessage());
        Path noDomain = dir.resolve("nodomain.jsonl");
        Files.writeString(noDomain, "{\"text\":\"a\"}\n");
        e = assertThrows(MoescopeException.class,
                () -> CorpusReader.read(noDomain, CorpusReader.Options.defaults(), d -> true));
        assertTrue(e.getMessage().contains("no string field 'domain'"), e.getMessage());
        Path empty = dir.resolve("empty.jsonl");
        Files.writeString(empty, "\n\n");
        e = assertThrows(MoescopeException.class,
                () -> CorpusReader.read(empty, CorpusReader.Options.defaults(), d -> true));
        assertEquals(empty + ": the corpus has no documents", e.getMessage());
        // plain text: one document per line, the domain is the file name
        Path txtDir = Files.createDirectories(dir.resolve("txt"));
        Files.writeString(txtDir.resolve("english.txt"), "one line\n\nanother line\n");
        Files.writeString(txtDir.resolve("french.txt"), "une ligne\n");
        List<String> seen = new ArrayList<>();
        long n = CorpusReader.read(txtDir, CorpusReader.Options.defaults(), d -> seen.add(d.domain() + "|" + d.text()));
        assertEquals(3, n);
        assertEquals(List.of("english|one line", "english|another line", "french|une ligne"), seen);
    }
}
