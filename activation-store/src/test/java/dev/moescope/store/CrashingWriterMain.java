package dev.moescope.store;

import dev.moescope.store.synthetic.SyntheticCorpus;

import java.nio.file.Path;

/**
 * Child process of {@link CrashSafetyTest}: creates or resumes a store and writes synthetic documents up to a
 * target, printing progress; the parent kills it with SIGKILL at random moments.
 * Arguments: store directory, target documents, corpus seed.
 */
public final class CrashingWriterMain {

    private CrashingWriterMain() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        long target = Long.parseLong(args[1]);
        SyntheticCorpus corpus = SyntheticCorpus.small(Long.parseLong(args[2]));
        StoreSpec spec = CrashSafetyTest.spec();
        try (StoreWriter w = StoreWriter.exists(dir) ? StoreWriter.resume(dir, spec)
                : StoreWriter.create(dir, spec, TestStores.provenance())) {
            System.out.println("resuming at document " + w.documentsCommitted());
            System.out.flush();
            // one document at a time, announcing each, so the parent can kill at a point measured in progress
            for (long d = w.documentsCommitted(); d < target; d++) {
                corpus.write(w, d, d + 1);
                System.out.println("doc " + d);
            }
            System.out.flush();
        }
        System.out.println("done");
    }
}
