package dev.moescope.cli.bench;

import dev.moescope.cli.CommonOptions;
import dev.moescope.core.BuildInfo;
import dev.moescope.core.error.Require;
import dev.moescope.core.io.FileTrees;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.HookChunk;
import dev.moescope.store.Identity;
import dev.moescope.store.StoreCompression;
import dev.moescope.store.StoreSpec;
import dev.moescope.store.StoreWriter;
import dev.moescope.store.TokenRows;
import dev.moescope.store.stream.HookBatch;
import dev.moescope.store.stream.ShuffleConfig;
import dev.moescope.store.stream.ShuffledBatches;
import dev.moescope.store.stream.Split;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code moescope bench store}: store write and read throughput side by side with a plain {@link FileChannel}
 * write and read of the same number of bytes on the same disk, as the physical reference.
 */
@Command(name = "store",
        mixinStandardHelpOptions = true,
        description = {
            "Store throughput against a raw FileChannel copy of the same bytes.",
            "Measures write (uncompressed, ZSTD), memory-mapped sequential read and shuffled read. "
                    + "Targets: write >= 50%% and sequential read >= 70%% of the raw rate."},
        footer = {"", "Example:", "  moescope bench store --mb 512 --width 512 --dir /tmp/bench"})
public final class StoreBench implements Callable<Integer> {

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--mb", paramLabel = "MB", defaultValue = "256",
            description = "Activation payload to write, MiB (default: ${DEFAULT-VALUE}).")
    int mb;

    @Option(names = "--width", paramLabel = "N", defaultValue = "512",
            description = "Hook width (default: ${DEFAULT-VALUE}).")
    int width;

    @Option(names = "--write-passes", defaultValue = "3", paramLabel = "N",
            description = "Alternating raw/store write passes; the median of each is compared (default: ${DEFAULT-VALUE}).")
    int writePasses;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "Scratch directory (default: a temporary one, deleted after).")
    Path dir;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Where to write summary.json (default: the scratch directory).")
    Path outDir;

    private double checksum;

    @Override
    public Integer call() throws Exception {
        Require.positive("--mb", mb);
        Require.positive("--width", width);
        Require.positive("--write-passes", writePasses);
        PrintWriter out = spec.commandLine().getOut();
        Path scratch = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("moescope-bench-store");
        long rows = ((long) mb << 20) / (width * 4L);
        long payload = rows * width * 4L;
        int docLength = 512;
        float[] pool = new float[docLength * width * 4];
        SplittableRandom r = new SplittableRandom(common.seed);
        for (int i = 0; i < pool.length; i++) {
            pool[i] = (float) r.nextGaussian();
        }
        Map<String, Object> results = new LinkedHashMap<>();
        out.printf("store benchmark: %d MiB of float32 activations, width %d, %,d rows, scratch %s%n", mb, width, rows, scratch);
        try {
            // warm-up: JIT, Arrow's class loading and the codecs, on a small store that is then deleted
            long warmRows = Math.min(rows, (32L << 20) / (width * 4L));
            Path warm = scratch.resolve("warm-up");
            write(warm, StoreCompression.NONE, warmRows, docLength, pool);
            rawWrite(scratch.resolve("warm-up-raw"), warmRows, docLength, pool);
            FileTrees.delete(scratch.resolve("warm-up-raw"));
            write(scratch.resolve("warm-up-zstd"), StoreCompression.ZSTD, warmRows, docLength, pool);
            sequentialRead(warm);
            shuffledRead(warm);
            FileTrees.delete(warm);
            FileTrees.delete(scratch.resolve("warm-up-zstd"));
            // writes: raw and store passes alternate, each after the previous pass's files are deleted, so both
            // meet the disk (and the page cache) in the same states; the median pass of each side is compared
            double[] raw = new double[writePasses];
            double[] store = new double[writePasses];
            Path plain = scratch.resolve("plain");
            for (int pass = 0; pass < writePasses; pass++) {
                FileTrees.delete(plain); // the previous pass's store, if any; the last pass's stays for the reads
                raw[pass] = rawWrite(scratch.resolve("raw"), rows, docLength, pool);
                FileTrees.delete(scratch.resolve("raw"));
                store[pass] = write(plain, StoreCompression.NONE, rows, docLength, pool);
            }
            double rawWrite = median(raw);
            double write = median(store);
            Path zstd = scratch.resolve("zstd");
            double writeZstd = write(zstd, StoreCompression.ZSTD, rows, docLength, pool);
            // reads are fast (page cache): repeat them, interleaved so raw and store see the same conditions,
            // and report the median pass
            double[] rawR = new double[READ_PASSES];
            double[] seq = new double[READ_PASSES];
            double[] seqZ = new double[3];
            for (int pass = 0; pass < READ_PASSES; pass++) {
                rawR[pass] = rawRead(plain);
                seq[pass] = sequentialRead(plain);
                if (pass < seqZ.length) {
                    seqZ[pass] = sequentialRead(zstd); // slow (decompression): fewer passes
                }
            }
            double rawRead = median(rawR);
            double seqRead = median(seq);
            double seqReadZstd = median(seqZ);
            double shuffled = shuffledRead(plain);
            out.printf("%-44s %9s %9s%n", "", "MB/s", "vs raw");
            out.printf("%-44s %9.1f %9s   passes %s%n", "raw FileChannel write, fsync/shard (median)", rawWrite, "1.00",
                    rates(raw));
            out.printf("%-44s %9.1f %9.2f   passes %s%n", "store write, uncompressed (median)", write, write / rawWrite,
                    rates(store));
            out.printf("%-44s %9.1f %9.2f%n", "store write, zstd", writeZstd, writeZstd / rawWrite);
            out.printf("%-44s %9.1f %9s%n", "raw FileChannel read", rawRead, "1.00");
            out.printf("%-44s %9.1f %9.2f%n", "store sequential read (mmap)", seqRead, seqRead / rawRead);
            out.printf("%-44s %9.1f %9.2f%n", "store shuffled read (buffer 64k)", shuffled, shuffled / rawRead);
            out.printf("%-44s %9.1f %9.2f%n", "store sequential read, zstd", seqReadZstd, seqReadZstd / rawRead);
            out.printf("zstd store size: %.1f%% of uncompressed (%,d vs %,d bytes)%n",
                    100.0 * sizeOf(zstd) / sizeOf(plain), sizeOf(zstd), sizeOf(plain));
            String load = "loadavg " + MachineLoad.now();
            out.println("targets: write >= 0.50 (" + (write / rawWrite >= 0.5 ? "met" : "NOT met") + "), sequential read >= 0.70 ("
                    + (seqRead / rawRead >= 0.7 ? "met" : "NOT met") + ")");
            out.println("load: " + load + "; writes: median of " + writePasses + " alternating raw/store passes; reads: median of "
                    + READ_PASSES + " interleaved passes, page cache warm (files just written); MB = 10^6 bytes of"
                    + " activation payload");
            results.put("rawWriteMBs", rawWrite);
            results.put("writeMBs", write);
            results.put("rawWritePassesMBs", raw);
            results.put("writePassesMBs", store);
            results.put("writeZstdMBs", writeZstd);
            results.put("rawReadMBs", rawRead);
            results.put("sequentialReadMBs", seqRead);
            results.put("shuffledReadMBs", shuffled);
            results.put("sequentialReadZstdMBs", seqReadZstd);
            results.put("zstdBytes", sizeOf(zstd));
            results.put("plainBytes", sizeOf(plain));
            results.put("load", load);
            results.put("readChecksum", checksum);
            results.put("arrow", BuildInfo.current().arrowVersion());
            results.put("provenance", Provenance.start("bench store").parameter("mb", mb).parameter("width", width)
                    .parameter("write-passes", writePasses).parameter("seed", common.seed).build());
            Path summaryDir = outDir != null ? Files.createDirectories(outDir) : scratch;
            Json.write(summaryDir.resolve("summary.json"), results);
        } finally {
            if (dir == null) {
                FileTrees.delete(scratch); // a temporary directory: --out is never inside it
            }
        }
        out.flush();
        return 0;
    }

    private double write(Path store, StoreCompression compression, long rows, int docLength, float[] pool) {
        StoreSpec spec = StoreSpec.builder(new Identity("bench", ""), new Identity("bench", ""))
                .hook("blocks.0.resid_post", width).compression(compression).shardRows(SHARD_ROWS).build();
        int[] ids = new int[docLength];
        float[][] docs = documents(docLength, pool);
        long t0 = System.nanoTime();
        try (StoreWriter w = StoreWriter.create(store, spec, Provenance.start("bench store").build())) {
            long written = 0;
            int doc = 0;
            while (written < rows) {
                int n = (int) Math.min(docLength, rows - written);
                float[] values = docs[doc % docs.length]; // prepared outside the timed loop: only the store is timed
                w.beginDocument("d" + doc, "bench");
                w.append(TokenRows.of(n == docLength ? ids : java.util.Arrays.copyOf(ids, n)).hook("blocks.0.resid_post", values));
                w.endDocument();
                written += n;
                doc++;
            }
        }
        return mbps(rows * width * 4L, System.nanoTime() - t0);
    }

    private double sequentialRead(Path store) {
        long t0 = System.nanoTime();
        long bytes = 0;
        double sum = 0;
        float[] buf = new float[0];
        try (ActivationStore s = ActivationStore.open(store)) {
            for (HookChunk c : s.hookChunks("blocks.0.resid_post")) {
                int n = c.rows() * c.width();
                if (buf.length < n) {
                    buf = new float[n];
                }
                c.values().get(0, buf, 0, n);
                sum += buf[n - 1];
                bytes += n * 4L;
            }
        }
        checksum += sum; // keeps the reads from being optimised away
        return mbps(bytes, System.nanoTime() - t0);
    }

    private double shuffledRead(Path store) {
        long t0 = System.nanoTime();
        long bytes = 0;
        try (ActivationStore s = ActivationStore.open(store);
             ShuffledBatches b = s.shuffled("blocks.0.resid_post",
                     new ShuffleConfig(4096, 65_536, common.seed, 0, Split.ALL, 0.0, true, false))) {
            for (HookBatch batch; (batch = b.next()) != null; ) {
                bytes += batch.values().length * 4L;
            }
        }
        return mbps(bytes, System.nanoTime() - t0);
    }

    /**
     * The physical reference: the same activation bytes the store is given (the same {@code float[]} documents, in
     * the same order) written with a plain FileChannel, one file per shard of {@link #SHARD_ROWS} rows, each forced
     * to disk (fsync) and closed at the shard boundary as the store does with its files. Floats go through one
     * reused direct buffer, the copy the JDK makes for any heap array written to a channel. Not done here and paid by
     * the store: the tokens table, Arrow framing, CRC32C, the rename and the manifest.
     */
    private double rawWrite(Path dir, long rows, int docLength, float[] pool) throws IOException {
        float[][] docs = documents(docLength, pool);
        Files.createDirectories(dir);
        ByteBuffer buf = ByteBuffer.allocateDirect(8 << 20).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        java.nio.FloatBuffer floats = buf.asFloatBuffer();
        long t0 = System.nanoTime();
        long written = 0;
        int doc = 0;
        int shard = 0;
        while (written < rows) {
            try (FileChannel ch = FileChannel.open(dir.resolve("shard-" + shard++ + ".bin"), StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                long inShard = 0;
                while (written < rows && inShard < SHARD_ROWS) { // shards end at a document end, as the store's
                    int n = (int) Math.min(docLength, rows - written);
                    float[] values = docs[doc++ % docs.length];
                    for (int off = 0; off < n * width; ) {
                        int take = Math.min(floats.capacity(), n * width - off);
                        floats.clear();
                        floats.put(values, off, take);
                        off += take;
                        buf.clear().limit(take * 4);
                        while (buf.hasRemaining()) {
                            ch.write(buf);
                        }
                    }
                    written += n;
                    inShard += n;
                }
                ch.force(true);
            }
        }
        return mbps(rows * width * 4L, System.nanoTime() - t0);
    }

    /** The four documents both writers cycle through, cut from {@code pool} outside the timed loops. */
    private float[][] documents(int docLength, float[] pool) {
        float[][] docs = new float[4][];
        for (int d = 0; d < docs.length; d++) {
            docs[d] = java.util.Arrays.copyOfRange(pool, d * docLength * width, (d + 1) * docLength * width);
        }
        return docs;
    }

    private static String rates(double[] passes) {
        StringBuilder b = new StringBuilder();
        for (double p : passes) {
            b.append(b.length() == 0 ? "" : " ").append(String.format(java.util.Locale.ROOT, "%.0f", p));
        }
        return b.toString();
    }

    /** Reads every hook file of the store with a plain FileChannel into a reused direct buffer. */
    private static double rawRead(Path store) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(store)) {
            files = s.filter(p -> p.getFileName().toString().equals("blocks.0.resid_post.arrow")).sorted().toList();
        }
        // a direct buffer: one copy from the page cache, like the store's mapped read (a heap buffer costs two)
        ByteBuffer buf = ByteBuffer.allocateDirect(8 << 20);
        long bytes = 0;
        long t0 = System.nanoTime();
        for (Path f : files) {
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                for (int n; (n = ch.read(buf.clear())) > 0; ) {
                    bytes += n;
                }
            }
        }
        return mbps(bytes, System.nanoTime() - t0);
    }

    private static final int READ_PASSES = 5;
    private static final int SHARD_ROWS = 1 << 16;

    private static double median(double[] v) {
        double[] c = v.clone();
        java.util.Arrays.sort(c);
        return c[c.length / 2];
    }

    private static double mbps(long bytes, long nanos) {
        return bytes / 1e6 / (nanos / 1e9);
    }

    private static long sizeOf(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
