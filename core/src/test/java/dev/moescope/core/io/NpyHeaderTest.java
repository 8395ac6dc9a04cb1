package dev.moescope.core.io;

import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyHeaderTest {

    @Test
    void encodedHeadersParseBackAlignedTo64Bytes() {
        for (long[] shape : new long[][] {{7}, {3, 5}, {2, 3, 4}}) {
            byte[] h = NpyHeader.encode("<f4", shape);
            assertEquals(0, h.length % 64, "data starts 64-byte aligned");
            NpyHeader p = NpyHeader.parse(ByteBuffer.wrap(h), "x.npy");
            assertEquals("<f4", p.descr());
            assertFalse(p.fortranOrder());
            assertArrayEquals(shape, p.shape());
            assertEquals(h.length, p.dataOffset());
        }
    }

    @Test
    void oneDimensionalShapeIsWrittenAsNumpyDoes() {
        String text = new String(NpyHeader.encode("<i8", 12), StandardCharsets.ISO_8859_1);
        assertTrue(text.contains("'shape': (12,)"), text); // numpy's repr of a 1-tuple
    }

    @Test
    void readsVersion2Headers() {
        String dict = "{'descr': '<f8', 'fortran_order': True, 'shape': (4, 2), }\n";
        ByteBuffer b = ByteBuffer.allocate(12 + dict.length()).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 2).put((byte) 0)
                .putInt(dict.length()).put(dict.getBytes(StandardCharsets.US_ASCII)).flip();
        NpyHeader p = NpyHeader.parse(b, "v2.npy");
        assertTrue(p.fortranOrder());
        assertEquals(8, p.elements());
        assertEquals(12 + dict.length(), p.dataOffset());
    }

    @Test
    void badMagicAndTruncationAreBadInputNamingTheFile() {
        MoescopeException magic = assertThrows(MoescopeException.class,
                () -> NpyHeader.parse(ByteBuffer.wrap("hello, not numpy".getBytes()), "junk.npy"));
        assertEquals("junk.npy: not a .npy file (bad magic)", magic.getMessage());
        assertEquals(ExitCode.BAD_INPUT, magic.exitCode());
        byte[] h = NpyHeader.encode("<f4", 3, 5);
        MoescopeException cut = assertThrows(MoescopeException.class,
                () -> NpyHeader.parse(ByteBuffer.wrap(h, 0, 20).slice(), "cut.npy"));
        assertTrue(cut.getMessage().startsWith("cut.npy: "), cut.getMessage());
    }
}
