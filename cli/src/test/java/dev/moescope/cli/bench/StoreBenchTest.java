package dev.moescope.cli.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.moescope.cli.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code moescope bench store} times alternating raw and store write passes and reports every pass and the medians. */
class StoreBenchTest {

    @Test
    void reportsEveryWritePassOfBothSidesAndTheirMedians(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        CliRun r = CliRun.of("bench", "store", "--mb", "4", "--width", "64", "--write-passes", "3",
                "--dir", dir.resolve("scratch").toString(), "--out", out.toString(), "--no-progress");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("raw FileChannel write, fsync/shard (median)"), r.out());
        assertTrue(r.out().contains("store write, uncompressed (median)"), r.out());
        JsonObject s = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject();
        assertEquals(3, s.getAsJsonArray("rawWritePassesMBs").size());
        assertEquals(3, s.getAsJsonArray("writePassesMBs").size());
        double[] store = new double[3];
        for (int i = 0; i < 3; i++) {
            store[i] = s.getAsJsonArray("writePassesMBs").get(i).getAsDouble();
            assertTrue(store[i] > 0);
        }
        java.util.Arrays.sort(store);
        assertEquals(store[1], s.get("writeMBs").getAsDouble(), 1e-9); // the median pass
        assertTrue(s.get("sequentialReadMBs").getAsDouble() > 0);
        // the raw reference's files are gone; the scratch keeps only what --dir asked for
        assertTrue(Files.notExists(dir.resolve("scratch").resolve("raw")));
    }

    @Test
    void refusesAZeroPassCount(@TempDir Path dir) {
        CliRun r = CliRun.of("bench", "store", "--mb", "4", "--write-passes", "0", "--dir", dir.toString());
        assertEquals(2, r.code(), r.out() + r.err());
    }
}
