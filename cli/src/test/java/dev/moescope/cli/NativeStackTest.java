package dev.moescope.cli;

import dev.moescope.cli.doctor.NativeChecks;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each native library loads offline and computes a known result (the checks throw on a wrong value). */
class NativeStackTest {

    @Test
    void libtorchThroughDjl() {
        assertTrue(NativeChecks.pytorch(2).contains("matmul and autograd ok"));
    }

    @Test
    void onnxRuntime() throws Exception {
        assertTrue(NativeChecks.onnxRuntime().contains("MatMul ok"));
    }

    @Test
    void huggingFaceTokenizers() throws Exception {
        assertTrue(NativeChecks.tokenizers().contains("encode ok"));
    }
}
