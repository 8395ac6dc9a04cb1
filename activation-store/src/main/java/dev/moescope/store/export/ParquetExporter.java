package dev.moescope.store.export;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.progress.Progress;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.Chunk;
import dev.moescope.store.HookSpec;

import org.apache.arrow.dataset.file.DatasetFileWriter;
import org.apache.arrow.dataset.file.FileFormat;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.ArrowReader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.types.pojo.Schema;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Parquet files of the one-row-per-token table, written by Arrow's C++ dataset writer through JNI
 * ({@code arrow-dataset} 18.3.0, the last release that ships the linux x86-64 library), so Spark, DuckDB,
 * Polars and pyarrow read the store at scale. The store is fed to the writer chunk by chunk through an
 * {@link ArrowReader}, never whole.
 */
public final class ParquetExporter {

    private ParquetExporter() {
    }

    /** Writes {@code part-<i>.parquet} files into {@code out}; returns their names. */
    public static List<String> export(ActivationStore store, List<String> hookNames, Path out) {
        List<HookSpec> hooks = new ArrayList<>();
        if (hookNames == null || hookNames.isEmpty()) {
            hooks.addAll(store.hooks());
        } else {
            for (String n : hookNames) {
                hooks.add(store.hook(n));
            }
        }
        try {
            Files.createDirectories(out);
            try (Stream<Path> s = Files.list(out)) {
                if (s.anyMatch(p -> p.getFileName().toString().endsWith(".parquet"))) {
                    throw MoescopeException.usage(out + ": already holds Parquet files; choose an empty directory");
                }
            }
        } catch (IOException e) {
            throw MoescopeException.failure(out + ": cannot create: " + e.getMessage(), e);
        }
        TokenRowTable table = new TokenRowTable(store, hooks, Map.of());
        BufferAllocator allocator = new RootAllocator();
        try (Progress progress = Progress.start("export parquet", store.rows(), "row");
             StoreReader reader = new StoreReader(allocator, store, table, progress)) {
            DatasetFileWriter.write(allocator, reader, FileFormat.PARQUET, out.toAbsolutePath().toUri().toString(),
                    new String[0], 1024, "part-{i}.parquet");
        } catch (IOException | RuntimeException e) {
            if (e instanceof MoescopeException me) {
                throw me;
            }
            throw MoescopeException.failure(out + ": Parquet export failed: " + e.getMessage(), e);
        } finally {
            release(allocator);
        }
        try (Stream<Path> s = Files.list(out)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".parquet")).sorted().toList();
        } catch (IOException e) {
            throw MoescopeException.failure(out + ": cannot list: " + e.getMessage(), e);
        }
    }

    /**
     * Closes the allocator once the native writer has released what it imported. The C++ side releases the last
     * exported batch asynchronously (apache/arrow-java#1255), so an immediate close can see a few KB still held;
     * wait briefly, and if they are still held leave them to the process rather than fail a finished export.
     */
    private static void release(BufferAllocator allocator) {
        for (int i = 0; i < 100 && allocator.getAllocatedMemory() > 0; i++) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (allocator.getAllocatedMemory() == 0) {
            allocator.close();
        } else {
            LOG.warn("{} bytes still held by Arrow's native dataset writer after the export; left to the process"
                    + " (apache/arrow-java#1255)", allocator.getAllocatedMemory());
        }
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ParquetExporter.class);

    /** Presents the store as an Arrow stream of token-row batches. */
    private static final class StoreReader extends ArrowReader {
        private final ActivationStore store;
        private final TokenRowTable table;
        private final VectorSchemaRoot staging;
        private final Progress progress;
        private int next;
        private long bytes;

        StoreReader(BufferAllocator allocator, ActivationStore store, TokenRowTable table, Progress progress) {
            super(allocator);
            this.store = store;
            this.progress = progress;
            this.table = table;
            this.staging = VectorSchemaRoot.create(table.schema(), allocator);
        }

        @Override
        public boolean loadNextBatch() throws IOException {
            prepareLoadNextBatch();
            List<Chunk> chunks = store.chunks();
            if (next >= chunks.size()) {
                return false;
            }
            Chunk chunk = chunks.get(next++);
            table.fill(staging, chunk);
            progress.stepBy(chunk.rows());
            try (ArrowRecordBatch batch = new VectorUnloader(staging).getRecordBatch()) {
                bytes += batch.computeBodyLength();
                loadRecordBatch(batch);
            }
            return true;
        }

        @Override
        public long bytesRead() {
            return bytes;
        }

        @Override
        protected void closeReadSource() {
            staging.close();
        }

        @Override
        protected Schema readSchema() {
            return table.schema();
        }
    }
}
