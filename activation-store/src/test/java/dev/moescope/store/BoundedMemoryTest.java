package dev.moescope.store;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Writing, streaming and shuffling a store several times larger than the JVM's heap, in a child JVM started
 * with {@code -Xmx64m}: it must not run out of memory, and its peak anonymous resident memory (heap plus Arrow's
 * off-heap buffers; mapped file pages excluded) must stay far below the store's size. The 4 GB under
 * {@code -Xmx512m} is the same program at a larger size (see the README).
 */
@Tag("slow")
class BoundedMemoryTest {

    private static final int MB = 384;

    @TempDir
    Path tmp;

    @Test
    void aStoreSixTimesTheHeapIsWrittenAndReadInBoundedMemory() throws Exception {
        Assumptions.assumeTrue(BoundedMemoryMain.rssAnonKb() > 0, "needs /proc/self/status (Linux)");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(List.of(java, "--add-opens=java.base/java.nio=ALL-UNNAMED", "-Xmx64m",
                "-cp", System.getProperty("java.class.path"), BoundedMemoryMain.class.getName(),
                tmp.resolve("big").toString(), Integer.toString(MB), "1024")).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        long writePeakMb = number(out, "write peakAnonKB ") / 1024;
        long readPeakMb = number(out, "read peakAnonKB ") / 1024;
        long rows = ((long) MB << 20) / 4096;
        assertTrue(out.contains("rows " + rows), out);
        System.out.println("bounded memory: " + MB + " MiB store under -Xmx64m, peak anonymous RSS write "
                + writePeakMb + " MiB, read " + readPeakMb + " MiB");
        assertTrue(writePeakMb < 220, "write peak " + writePeakMb + " MiB: " + out);
        assertTrue(readPeakMb < 220, "read peak " + readPeakMb + " MiB: " + out);
        long onDisk;
        try (var s = Files.walk(tmp.resolve("big"))) {
            onDisk = s.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
        assertTrue(onDisk > (long) MB << 20);
    }

    private static long number(String text, String key) {
        int i = text.indexOf(key);
        assertTrue(i >= 0, text);
        String rest = text.substring(i + key.length()).split("\\s")[0];
        return Long.parseLong(rest);
    }
}
