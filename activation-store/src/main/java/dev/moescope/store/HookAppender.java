package dev.moescope.store;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.AtomicFiles;
import dev.moescope.store.arrow.ChecksummedChannel;
import dev.moescope.store.arrow.Columns;
import dev.moescope.store.arrow.StoreSchemas;
import dev.moescope.store.arrow.TableMetadata;
import dev.moescope.store.manifest.FileEntry;
import dev.moescope.store.manifest.Manifest;
import dev.moescope.store.manifest.ShardEntry;

import org.apache.arrow.compression.CommonsCompressionFactory;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.compression.CompressionUtil;
import org.apache.arrow.vector.compression.NoCompressionCodec;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.types.pojo.Schema;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Adds a derived hook to a finished store, computed chunk by chunk from what the store already holds: SAE or
 * crosscoder latents ({@link HookSpec#sparse sparse}: active indices and values per token), a projection, a
 * normalised copy. The new hook gets one file per shard, aligned with the shard's other tables; each file is
 * written to a temporary name, forced to disk and renamed, and the manifest is replaced atomically at the end,
 * so a crash leaves the store as it was (a rerun overwrites the unlisted files).
 *
 * <pre>{@code
 * HookAppender.addSparse(storeDir, HookSpec.sparse("blocks.1.sae_latents", 4096), (store, chunk) -> {
 *     float[] x = store.readHook("blocks.1.resid_post", chunk.firstRow(), chunk.rows());
 *     return encoder.encode(x, chunk.rows());                        // SparseRows with chunk.rows() rows
 * });
 * }</pre>
 */
public final class HookAppender {

    private HookAppender() {
    }

    /** Computes one chunk of the new hook; may read anything from the open store. */
    @FunctionalInterface
    public interface ChunkFunction<T> {
        T apply(ActivationStore store, Chunk chunk);
    }

    /** Adds a dense hook: {@code source} returns row-major {@code float[chunk.rows() * width]}. */
    public static void addDense(Path storeDir, HookSpec hook, ChunkFunction<float[]> source) {
        if (hook.sparse()) {
            throw MoescopeException.usage("hook " + hook.name() + " is sparse; use addSparse");
        }
        add(storeDir, hook, (store, chunk, root) -> {
            float[] v = source.apply(store, chunk);
            if (v == null || v.length != chunk.rows() * hook.width()) {
                throw MoescopeException.badInput(storeDir, "hook " + hook.name() + " has width " + hook.width()
                        + " but the source gave " + (v == null ? 0 : v.length) + " values for " + chunk.rows() + " rows");
            }
            FixedSizeListVector list = (FixedSizeListVector) root.getVector(0);
            Columns.allocate(list, chunk.rows());
            Columns.putFloats(list, hook.dtype(), 0, v, 0, chunk.rows(), hook.width());
            Columns.seal(list, chunk.rows());
        });
    }

    /** Adds a sparse hook: {@code source} returns the chunk's rows in compressed sparse row form. */
    public static void addSparse(Path storeDir, HookSpec hook, ChunkFunction<SparseRows> source) {
        if (!hook.sparse()) {
            throw MoescopeException.usage("hook " + hook.name() + " is dense; use addDense");
        }
        add(storeDir, hook, (store, chunk, root) -> {
            SparseRows s = source.apply(store, chunk);
            if (s == null || s.size() != chunk.rows()) {
                throw MoescopeException.badInput(storeDir, "the source gave " + (s == null ? 0 : s.size())
                        + " rows of " + hook.name() + " for a chunk of " + chunk.rows());
            }
            for (int i = s.offsets()[0]; i < s.offsets()[chunk.rows()]; i++) {
                if (s.indices()[i] < 0 || s.indices()[i] >= hook.width()) {
                    throw MoescopeException.badInput(storeDir, "latent index " + s.indices()[i] + " outside [0, "
                            + hook.width() + ") for hook " + hook.name());
                }
            }
            Columns.putSparse((ListVector) root.getVector(0), (ListVector) root.getVector(1), s.offsets(), s.indices(),
                    s.values(), chunk.rows());
        });
    }

    private interface Filler {
        void fill(ActivationStore store, Chunk chunk, VectorSchemaRoot root);
    }

    private static void add(Path storeDir, HookSpec hook, Filler filler) {
        try (StoreLock lock = StoreLock.acquire(storeDir);
             ActivationStore store = ActivationStore.open(storeDir);
             BufferAllocator allocator = new RootAllocator()) {
            Manifest m = store.manifest();
            if (m.hook(hook.name()) != null) {
                throw MoescopeException.badInput(storeDir, "already has a hook named " + hook.name());
            }
            List<Chunk> chunks = store.chunks();
            List<FileEntry> files = new ArrayList<>();
            int next = 0;
            for (ShardEntry shard : m.shards()) {
                Path shardDir = storeDir.resolve(shard.directory());
                Path tmp = shardDir.resolve("." + hook.fileName() + ".tmp");
                Files.deleteIfExists(tmp);
                TableMetadata meta = new TableMetadata(Manifest.FORMAT_VERSION, hook.sparse() ? "sparse_hook" : "hook",
                        hook.name(), -1, hook.width(), hook.dtype().label(), m.model().toString(),
                        m.tokenizer().toString(), shard.index(), shard.firstRow());
                Schema schema = hook.sparse() ? StoreSchemas.sparseHook(meta)
                        : StoreSchemas.hook(hook.name(), hook.width(), hook.dtype(), meta);
                ChecksummedChannel channel = new ChecksummedChannel(tmp);
                try (VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
                     ArrowFileWriter writer = m.compression() == StoreCompression.ZSTD
                             ? new ArrowFileWriter(root, null, channel, schema.getCustomMetadata(), IpcOption.DEFAULT,
                             CommonsCompressionFactory.INSTANCE, CompressionUtil.CodecType.ZSTD, Optional.empty())
                             : new ArrowFileWriter(root, null, channel, schema.getCustomMetadata(), IpcOption.DEFAULT,
                             NoCompressionCodec.Factory.INSTANCE, CompressionUtil.CodecType.NO_COMPRESSION)) {
                    writer.start();
                    while (next < chunks.size() && chunks.get(next).shard() == shard.index()) {
                        Chunk c = chunks.get(next++);
                        filler.fill(store, c, root);
                        root.setRowCount(c.rows());
                        writer.writeBatch();
                    }
                    writer.end();
                } finally {
                    channel.close();
                }
                AtomicFiles.moveAtomically(tmp, shardDir.resolve(hook.fileName()));
                AtomicFiles.syncDirectory(shardDir);
                files.add(new FileEntry(hook.fileName(), channel.bytes(), channel.crc32c()));
            }
            m.withHook(hook, files).write(storeDir);
        } catch (IOException e) {
            throw MoescopeException.failure(storeDir + ": cannot add hook " + hook.name() + ": " + e.getMessage(), e);
        }
    }
}
