package dev.moescope.store;

import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.store.synthetic.SyntheticCorpus;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Resume semantics and the refusals that protect a store's identity and schema. */
class StoreWriterTest {

    @TempDir
    Path tmp;

    @Test
    void resumeContinuesAfterTheLastCommittedDocument() {
        Path dir = tmp.resolve("s");
        StoreSpec spec = TestStores.spec().build();
        SyntheticCorpus corpus = SyntheticCorpus.small(1);
        TestStores.write(dir, spec, corpus, 15);
        try (StoreWriter w = StoreWriter.resume(dir, spec)) {
            assertEquals(15, w.documentsCommitted());
            assertEquals("doc-14", w.lastCommittedDocumentId());
            corpus.write(w, w.documentsCommitted(), 30);
        }
        StoreVerifier.Report r = StoreVerifier.verify(dir);
        assertEquals(corpus.rowsOf(30), r.rows());
        try (ActivationStore s = ActivationStore.open(dir)) {
            assertEquals(30, s.documents());
            TokenColumns last = s.readTokens(s.rows() - 1, 1);
            assertEquals("doc-29", last.docId()[0]);
            assertEquals(29, last.docIndex()[0]);
        }
    }

    @Test
    void anAbandonedDocumentIsNotCommittedAndResumeRedoesIt() {
        Path dir = tmp.resolve("s");
        StoreSpec spec = TestStores.spec().shardRows(100_000).build();
        SyntheticCorpus corpus = SyntheticCorpus.small(2);
        try (StoreWriter w = StoreWriter.create(dir, spec, TestStores.provenance())) {
            corpus.write(w, 0, 5);
            w.commit();
            corpus.write(w, 5, 8);
            SyntheticCorpus.Document d = corpus.document(8);
            w.beginDocument(d.id(), d.domain());
            w.append(corpus.rows(spec, d));
            // the caller fails here: close() with an open document abandons the uncommitted shard
        }
        try (ActivationStore s = ActivationStore.open(dir)) {
            assertEquals(5, s.documents());
            assertEquals(1, s.uncommittedDirectories().size());
        }
        try (StoreWriter w = StoreWriter.resume(dir, spec)) {
            corpus.write(w, w.documentsCommitted(), 10);
        }
        assertTrue(StoreVerifier.verify(dir).uncommitted().isEmpty());
        try (ActivationStore s = ActivationStore.open(dir)) {
            assertEquals(10, s.documents());
            assertEquals(corpus.rowsOf(10), s.rows());
        }
    }

    @Test
    void refusesMismatchedIdentityWidthOrHooks() {
        Path dir = tmp.resolve("s");
        TestStores.write(dir, TestStores.spec().build(), SyntheticCorpus.small(1), 3);
        StoreSpec otherModel = StoreSpec.builder(new Identity("other-model", "ff"), TestStores.TOKENIZER)
                .hook("blocks.0.resid_post", 16).hook("blocks.1.moe_out", 8).hook("blocks.1.router_logits", 6)
                .routing(1, 2, 6).tokenText(true).build();
        assertRefused(() -> StoreWriter.resume(dir, otherModel), "model identity differs");
        StoreSpec otherTokenizer = StoreSpec.builder(TestStores.MODEL, new Identity("tok2", "99"))
                .hook("blocks.0.resid_post", 16).hook("blocks.1.moe_out", 8).hook("blocks.1.router_logits", 6)
                .routing(1, 2, 6).tokenText(true).build();
        assertRefused(() -> StoreWriter.resume(dir, otherTokenizer), "tokenizer identity differs");
        StoreSpec otherWidth = StoreSpec.builder(TestStores.MODEL, TestStores.TOKENIZER)
                .hook("blocks.0.resid_post", 32).hook("blocks.1.moe_out", 8).hook("blocks.1.router_logits", 6)
                .routing(1, 2, 6).tokenText(true).build();
        assertRefused(() -> StoreWriter.resume(dir, otherWidth), "hooks differ");
        // a previous run in --out is the user's choice of directory: usage (exit 2), as for every command
        MoescopeException again = assertThrows(MoescopeException.class,
                () -> StoreWriter.create(dir, TestStores.spec().build(), TestStores.provenance()));
        assertEquals(ExitCode.USAGE, again.exitCode(), again.getMessage());
        assertTrue(again.getMessage().contains("already holds a store"), again.getMessage());

        // rows whose arrays do not match the store's widths or hooks
        try (StoreWriter w = StoreWriter.resume(dir, TestStores.spec().build())) {
            w.beginDocument("x", "code");
            TokenRows wrongWidth = TokenRows.of(new int[]{1, 2}).texts(new String[]{"a", "b"})
                    .hook("blocks.0.resid_post", new float[2 * 15]).hook("blocks.1.moe_out", new float[16])
                    .hook("blocks.1.router_logits", new float[12]).routing(1, new int[4], new float[4]);
            assertRefused(() -> w.append(wrongWidth), "has width 16");
            TokenRows unknownHook = TokenRows.of(new int[]{1}).texts(new String[]{"a"})
                    .hook("blocks.9.resid_post", new float[16]);
            assertRefused(() -> w.append(unknownHook), "refusing to append hook 'blocks.9.resid_post'");
        }
        assertEquals(3, StoreVerifier.verify(dir).rows() > 0 ? 3 : 0);
    }

    @Test
    void anEmptyDocumentIsRefusedAndTheWriterCarriesOn() {
        Path dir = tmp.resolve("s");
        StoreSpec spec = TestStores.spec().build();
        SyntheticCorpus corpus = SyntheticCorpus.small(3);
        try (StoreWriter w = StoreWriter.create(dir, spec, TestStores.provenance())) {
            corpus.write(w, 0, 3);
            w.beginDocument("empty", "code");
            assertRefused(w::endDocument, "has no tokens");
            corpus.write(w, 3, 6);
        }
        assertEquals(corpus.rowsOf(6), StoreVerifier.verify(dir).rows());
        try (ActivationStore s = ActivationStore.open(dir)) {
            assertEquals(6, s.documents());
            assertEquals("doc-3", s.readTokens(corpus.rowsOf(3), 1).docId()[0]);
            assertEquals(3, s.readTokens(corpus.rowsOf(3), 1).docIndex()[0]);
        }
    }

    @Test
    void aSecondWriterIsRefusedWhileOneIsOpen() {
        Path dir = tmp.resolve("s");
        StoreSpec spec = TestStores.spec().build();
        try (StoreWriter w = StoreWriter.create(dir, spec, TestStores.provenance())) {
            assertRefused(() -> StoreWriter.resume(dir, spec), "another");
        }
    }

    @Test
    void anEmptyNewStoreOpensWithNoRows() throws Exception {
        Path dir = tmp.resolve("s");
        try (StoreWriter w = StoreWriter.create(dir, TestStores.spec().build(), TestStores.provenance())) {
            assertTrue(Files.exists(dir.resolve("manifest.json")));
        }
        try (ActivationStore s = ActivationStore.open(dir)) {
            assertEquals(0, s.rows());
            assertEquals(3, s.hooks().size());
        }
    }

    static void assertRefused(org.junit.jupiter.api.function.Executable e, String fragment) {
        MoescopeException ex = assertThrows(MoescopeException.class, e);
        assertEquals(ExitCode.BAD_INPUT, ex.exitCode(), ex.getMessage());
        assertTrue(ex.getMessage().contains(fragment), ex.getMessage());
        assertTrue(!ex.getMessage().contains("\n"));
    }
}
