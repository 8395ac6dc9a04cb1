package dev.moescope.crosscoder.diff;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The sign test behind "fewer MoE-specific than dense-specific latents". */
class ClaimsTest {

    @Test
    void signTestMatchesTheBinomialTail() {
        assertEquals(1.0, Claims.signTest(0, 0), 0);
        assertEquals(0.5, Claims.signTest(0, 1), 1e-12);
        assertEquals(1.0 / 1024, Claims.signTest(0, 10), 1e-15);
        assertEquals(11.0 / 1024, Claims.signTest(1, 10), 1e-15);
        assertEquals(56.0 / 1024, Claims.signTest(2, 10), 1e-15); // 1 + 10 + 45
        assertEquals(1.0, Claims.signTest(10, 10), 1e-12);
    }
}
