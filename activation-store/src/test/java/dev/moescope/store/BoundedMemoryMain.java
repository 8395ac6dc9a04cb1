package dev.moescope.store;

import dev.moescope.core.provenance.Provenance;
import dev.moescope.store.stream.HookBatch;
import dev.moescope.store.stream.ShuffleConfig;
import dev.moescope.store.stream.ShuffledBatches;
import dev.moescope.store.stream.Split;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Child process of {@link BoundedMemoryTest} (and a by-hand tool for the 4 GB check): writes a store of
 * {@code MB} MiB of activations under whatever {@code -Xmx} it was started with, then reads it sequentially and
 * shuffled, and prints the peak anonymous resident memory (heap and off-heap, not the page cache) of each phase.
 * Arguments: store directory, MiB, width.
 */
public final class BoundedMemoryMain {

    private BoundedMemoryMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long mb = Long.parseLong(args[1]);
        int width = Integer.parseInt(args[2]);
        AtomicLong peak = new AtomicLong();
        Thread sampler = new Thread(() -> {
            while (true) {
                peak.accumulateAndGet(rssAnonKb(), Math::max);
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        sampler.setDaemon(true);
        sampler.start();

        long rows = (mb << 20) / (width * 4L);
        StoreSpec spec = StoreSpec.builder(new Identity("bounded", ""), new Identity("bounded", ""))
                .hook("blocks.0.resid_post", width).shardRows(1 << 16).build();
        float[] values = new float[512 * width];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) r.nextGaussian();
        }
        int[] ids = new int[512];
        long written = 0;
        try (StoreWriter w = StoreWriter.create(dir, spec, Provenance.start("bounded memory").build())) {
            for (int doc = 0; written < rows; doc++) {
                int n = (int) Math.min(512, rows - written);
                w.beginDocument("d" + doc, "x");
                w.append(TokenRows.of(n == 512 ? ids : java.util.Arrays.copyOf(ids, n))
                        .hook("blocks.0.resid_post", values));
                w.endDocument();
                written += n;
            }
        }
        System.out.println("write peakAnonKB " + peak.get() + " rows " + written);
        peak.set(0);
        double sum = 0;
        long seen = 0;
        try (ActivationStore s = ActivationStore.open(dir)) {
            float[] buf = new float[0];
            for (HookChunk c : s.hookChunks("blocks.0.resid_post")) {
                int n = c.rows() * c.width();
                if (buf.length < n) {
                    buf = new float[n];
                }
                c.values().get(0, buf, 0, n);
                sum += buf[0];
                seen += c.rows();
            }
            try (ShuffledBatches b = s.shuffled("blocks.0.resid_post",
                    new ShuffleConfig(512, 4096, 3, 0, Split.TRAIN, 0.1, true, true))) {
                for (HookBatch batch; (batch = b.next()) != null; ) {
                    sum += batch.values()[0];
                }
            }
        }
        System.out.println("read peakAnonKB " + peak.get() + " rows " + seen + " checksum " + sum);
    }

    static long rssAnonKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("RssAnon:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }
}
