package dev.moescope.sae.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The exported {@code sae_weights.safetensors} parses with an independent minimal reader (regular expressions over
 * the header, no shared code) into the SAELens layout, with the input scale folded in as documented.
 */
class SaeLensExportTest {

    /** name -> {dtype, shape, begin, end}, straight from the header text. */
    private static Map<String, Object[]> parseHeader(String header) {
        Map<String, Object[]> out = new HashMap<>();
        Matcher m = Pattern.compile("\"(\\w+)\":\\{\"dtype\":\"(\\w+)\",\"shape\":\\[([0-9,]*)],"
                + "\"data_offsets\":\\[(\\d+),(\\d+)]}").matcher(header);
        while (m.find()) {
            out.put(m.group(1), new Object[]{m.group(2), m.group(3), Long.parseLong(m.group(4)),
                    Long.parseLong(m.group(5))});
        }
        return out;
    }

    private static float[] tensor(byte[] file, long dataStart, Object[] entry) {
        long from = dataStart + (Long) entry[2];
        long to = dataStart + (Long) entry[3];
        float[] v = new float[(int) ((to - from) / 4)];
        ByteBuffer.wrap(file, (int) from, (int) (to - from)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }

    @Test
    void weightsReadBackWithAnIndependentParser(@TempDir Path dir) throws Exception {
        int d = 5;
        int f = 7;
        Random r = new Random(1);
        float[] enc = new float[f * d];
        float[] dec = new float[f * d];
        float[] encB = new float[f];
        float[] decB = new float[d];
        for (int i = 0; i < enc.length; i++) {
            enc[i] = (float) r.nextGaussian();
            dec[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < f; i++) {
            encB[i] = (float) r.nextGaussian();
        }
        for (int j = 0; j < d; j++) {
            decB[j] = (float) r.nextGaussian();
        }
        double scale = 0.5;
        SaeLensExport.write(dir, d, f, enc, encB, dec, decB, scale, 0.25, 3, "blocks.0.hook",
                Map.of("source", "test"), dev.moescope.core.provenance.Provenance.start("test").build());

        byte[] file = Files.readAllBytes(dir.resolve("sae_weights.safetensors"));
        long n = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + n) % 8, "data is 8-byte aligned");
        String header = new String(file, 8, (int) n, StandardCharsets.UTF_8);
        Map<String, Object[]> t = parseHeader(header);
        assertEquals(5, t.size(), header);
        assertEquals("F32", t.get("W_enc")[0]);
        assertEquals(d + "," + f, t.get("W_enc")[1]);
        assertEquals(f + "," + d, t.get("W_dec")[1]);
        assertEquals(String.valueOf(f), t.get("threshold")[1]);
        assertEquals(file.length - 8 - n, (Long) t.get("threshold")[3] > (Long) t.get("W_dec")[3]
                ? (Long) t.get("threshold")[3] : (Long) t.get("W_dec")[3], "last tensor ends at end of file");
        long start = 8 + n;
        float[] wEnc = tensor(file, start, t.get("W_enc"));
        float[] wDec = tensor(file, start, t.get("W_dec"));
        for (int i = 0; i < f; i++) {
            for (int j = 0; j < d; j++) {
                assertEquals(enc[i * d + j] * 0.5f, wEnc[j * f + i], 1e-7f, "W_enc[" + j + "][" + i + "]");
                assertEquals(dec[i * d + j] / 0.5f, wDec[i * d + j], 1e-6f);
            }
        }
        assertArrayEquals(encB, tensor(file, start, t.get("b_enc")));
        float[] bDec = tensor(file, start, t.get("b_dec"));
        for (int j = 0; j < d; j++) {
            assertEquals(decB[j] / 0.5f, bDec[j], 1e-6f);
        }
        for (float v : tensor(file, start, t.get("threshold"))) {
            assertEquals(0.25f, v);
        }
        String cfg = Files.readString(dir.resolve("cfg.json"));
        assertTrue(cfg.contains("\"d_in\": 5") && cfg.contains("\"d_sae\": 7")
                && cfg.contains("\"architecture\": \"jumprelu\"") && cfg.contains("\"hook_name\": \"blocks.0.hook\""),
                cfg);
        // and our own reader agrees
        SaeLensExport.RawSae back = SaeLensExport.read(dir);
        assertArrayEquals(wEnc, back.wEnc());
        assertEquals(0.25f, back.theta());
    }
}
