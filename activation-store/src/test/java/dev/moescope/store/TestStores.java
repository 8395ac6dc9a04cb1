package dev.moescope.store;

import dev.moescope.core.provenance.Provenance;
import dev.moescope.store.synthetic.SyntheticCorpus;

import java.nio.file.Path;

/** Shared fixtures of the store tests: a small spec and a writer of synthetic documents. */
final class TestStores {

    static final Identity MODEL = new Identity("synthetic-moe", "ab12");
    static final Identity TOKENIZER = new Identity("synthetic-tokenizer", "cd34");

    private TestStores() {
    }

    static StoreSpec.Builder spec() {
        return StoreSpec.builder(MODEL, TOKENIZER)
                .hook("blocks.0.resid_post", 16)
                .hook("blocks.1.moe_out", 8)
                .hook("blocks.1.router_logits", 6)
                .routing(1, 2, 6)
                .tokenText(true)
                .shardRows(500)
                .batchRows(128);
    }

    static Provenance provenance() {
        return Provenance.start("test store").parameter("seed", 7).build();
    }

    /** Writes documents [0, docs) of {@code corpus} into a new store. */
    static void write(Path dir, StoreSpec spec, SyntheticCorpus corpus, int docs) {
        try (StoreWriter w = StoreWriter.create(dir, spec, provenance())) {
            corpus.write(w, 0, docs);
        }
    }
}
