package dev.moescope.core.error;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MoescopeExceptionTest {

    @Test
    void messagesAreOneLineAndNameTheFile() {
        MoescopeException e = MoescopeException.badInput(Path.of("store/manifest.json"), "shard 3\n  is missing");
        assertEquals("store/manifest.json: shard 3 is missing", e.getMessage());
        assertEquals(3, e.exitCode().code());
    }

    @Test
    void requireReportsFieldRuleAndValueAsUsage() {
        MoescopeException e = assertThrows(MoescopeException.class, () -> Require.positive("m", 0));
        assertEquals("m must be positive, got 0", e.getMessage());
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertThrows(MoescopeException.class, () -> Require.inHalfOpen("sparsity", 1.0, 0, 1));
        assertEquals(0.5, Require.inHalfOpen("sparsity", 0.5, 0, 1));
    }
}
