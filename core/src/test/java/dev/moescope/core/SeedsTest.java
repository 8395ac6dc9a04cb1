package dev.moescope.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class SeedsTest {

    @Test
    void sameSeedAndPurposeReplay() {
        assertEquals(Seeds.random(5, "router-init").nextLong(), Seeds.random(5, "router-init").nextLong());
    }

    @Test
    void purposesAndSeedsGiveIndependentStreams() {
        assertNotEquals(Seeds.derive(5, "router-init"), Seeds.derive(5, "data"));
        assertNotEquals(Seeds.derive(5, "data"), Seeds.derive(6, "data"));
    }
}
