package dev.moescope.store;

import dev.moescope.store.stream.DocumentSplit;
import dev.moescope.store.stream.Split;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The document split holds out the asked fraction, depends on the seed, and partitions the documents. */
class DocumentSplitTest {

    @Test
    void holdsOutTheAskedFractionDeterministically() {
        DocumentSplit split = new DocumentSplit(42, 0.2);
        int held = 0;
        int n = 20_000;
        StringBuilder first = new StringBuilder();
        for (long d = 0; d < n; d++) {
            boolean v = split.isValidation(d);
            held += v ? 1 : 0;
            assertEquals(v, new DocumentSplit(42, 0.2).isValidation(d), "deterministic");
            assertTrue(split.accepts(Split.TRAIN, d) != split.accepts(Split.VALIDATION, d), "partition");
            assertTrue(split.accepts(Split.ALL, d));
            if (d < 64) {
                first.append(v ? '1' : '0');
            }
        }
        // binomial(20000, 0.2): sd ~57 documents
        assertEquals(0.2 * n, held, 300);
        StringBuilder other = new StringBuilder();
        DocumentSplit otherSeed = new DocumentSplit(43, 0.2);
        for (long d = 0; d < 64; d++) {
            other.append(otherSeed.isValidation(d) ? '1' : '0');
        }
        assertNotEquals(first.toString(), other.toString(), "the seed changes the split");
        assertEquals(0, countHeld(new DocumentSplit(1, 0.0), 1000), "fraction 0 holds out nothing");
    }

    private static int countHeld(DocumentSplit s, int n) {
        int held = 0;
        for (long d = 0; d < n; d++) {
            held += s.isValidation(d) ? 1 : 0;
        }
        return held;
    }
}
