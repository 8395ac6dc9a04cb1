package dev.moescope.store.export;

import dev.moescope.core.io.NpyHeader;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.progress.Progress;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.Chunk;
import dev.moescope.store.HookSpec;
import dev.moescope.store.RoutingColumns;
import dev.moescope.store.RoutingSpec;
import dev.moescope.store.SparseRows;
import dev.moescope.store.TokenColumns;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * numpy exports: {@code <hook>.npy} per dense hook ({@code float32 [rows, width]}; float16 hooks are widened),
 * CSR arrays per sparse hook,
 * {@code routing.blocks.<L>.expert_ids.npy} ({@code int32 [rows, k]}) and {@code ...gate_weights.npy}, and
 * {@code tokens.csv} (doc_index, doc_id, domain, position, token_id[, token]). Files are streamed chunk by
 * chunk; {@code np.load(path, mmap_mode="r")} opens them without loading.
 */
public final class NpyExporter {

    private NpyExporter() {
    }

    /** Writes the files into {@code out}; returns their names. */
    public static List<String> export(ActivationStore store, List<String> hookNames, Path out) {
        List<HookSpec> hooks = new ArrayList<>();
        for (String n : hookNames == null || hookNames.isEmpty()
                ? store.hooks().stream().map(HookSpec::name).toList() : hookNames) {
            hooks.add(store.hook(n));
        }
        List<String> names = new ArrayList<>();
        if (Files.exists(out.resolve("tokens.csv"))) {
            throw MoescopeException.usage(out + ": already holds an npy export; choose an empty directory");
        }
        long rows = store.rows();
        try (Progress progress = Progress.start("export npy",
                rows * (hooks.size() + store.routing().size() + 1), "row")) {
            Files.createDirectories(out);
            for (HookSpec h : hooks) {
                if (h.sparse()) {
                    names.addAll(exportSparse(store, h, out));
                    progress.stepBy(rows);
                    continue;
                }
                String name = h.name() + ".npy";
                try (FileChannel ch = create(out.resolve(name), "<f4", rows, h.width())) {
                    for (Chunk c : store.chunks()) {
                        float[] v = store.readHook(h.name(), c.firstRow(), c.rows());
                        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                        b.asFloatBuffer().put(v);
                        writeFully(ch, b);
                        progress.stepBy(c.rows());
                    }
                }
                names.add(name);
            }
            for (RoutingSpec r : store.routing()) {
                String idsName = "routing.blocks." + r.layer() + ".expert_ids.npy";
                String wName = "routing.blocks." + r.layer() + ".gate_weights.npy";
                try (FileChannel ids = create(out.resolve(idsName), "<i4", rows, r.topK());
                     FileChannel w = create(out.resolve(wName), "<f4", rows, r.topK())) {
                    for (Chunk c : store.chunks()) {
                        RoutingColumns rc = store.readRouting(r.layer(), c.firstRow(), c.rows());
                        ByteBuffer bi = ByteBuffer.allocate(rc.expertIds().length * 4).order(ByteOrder.LITTLE_ENDIAN);
                        bi.asIntBuffer().put(rc.expertIds());
                        writeFully(ids, bi);
                        ByteBuffer bw = ByteBuffer.allocate(rc.gateWeights().length * 4).order(ByteOrder.LITTLE_ENDIAN);
                        bw.asFloatBuffer().put(rc.gateWeights());
                        writeFully(w, bw);
                        progress.stepBy(c.rows());
                    }
                }
                names.add(idsName);
                names.add(wName);
            }
            boolean text = store.manifest().tokenText();
            try (BufferedWriter csv = Files.newBufferedWriter(out.resolve("tokens.csv"), StandardCharsets.UTF_8)) {
                csv.write(text ? "doc_index,doc_id,domain,position,token_id,token\n" : "doc_index,doc_id,domain,position,token_id\n");
                for (Chunk c : store.chunks()) {
                    TokenColumns t = store.readTokens(c.firstRow(), c.rows());
                    progress.stepBy(c.rows());
                    for (int i = 0; i < t.size(); i++) {
                        csv.write(t.docIndex()[i] + "," + csv(t.docId()[i]) + "," + csv(t.domain()[i]) + ","
                                + t.position()[i] + "," + t.tokenId()[i]);
                        if (text) {
                            csv.write("," + csv(t.text()[i] == null ? "" : t.text()[i]));
                        }
                        csv.write('\n');
                    }
                }
            }
            names.add("tokens.csv");
        } catch (IOException e) {
            throw MoescopeException.failure(out + ": cannot write: " + e.getMessage(), e);
        }
        return names;
    }

    /**
     * A sparse hook as the three arrays of a CSR matrix: {@code <hook>.indptr.npy} (int64, rows + 1),
     * {@code <hook>.indices.npy} (int32) and {@code <hook>.values.npy} (float32), for
     * {@code scipy.sparse.csr_matrix((values, indices, indptr), shape=(rows, width))}. Two passes: the first counts.
     */
    private static List<String> exportSparse(ActivationStore store, HookSpec h, Path out) throws IOException {
        long nnz = 0;
        for (Chunk c : store.chunks()) {
            SparseRows s = store.readSparse(h.name(), c.firstRow(), c.rows());
            nnz += s.offsets()[c.rows()];
        }
        String ptrName = h.name() + ".indptr.npy";
        String idxName = h.name() + ".indices.npy";
        String valName = h.name() + ".values.npy";
        try (FileChannel ptr = create(out.resolve(ptrName), "<i8", store.rows() + 1, -1);
             FileChannel idx = create(out.resolve(idxName), "<i4", nnz, -1);
             FileChannel val = create(out.resolve(valName), "<f4", nnz, -1)) {
            long base = 0;
            ByteBuffer zero = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0);
            writeFully(ptr, zero.flip());
            for (Chunk c : store.chunks()) {
                SparseRows s = store.readSparse(h.name(), c.firstRow(), c.rows());
                ByteBuffer p = ByteBuffer.allocate(c.rows() * 8).order(ByteOrder.LITTLE_ENDIAN);
                for (int r = 1; r <= c.rows(); r++) {
                    p.putLong(base + s.offsets()[r]);
                }
                writeFully(ptr, p.flip());
                int n = s.offsets()[c.rows()];
                ByteBuffer bi = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
                bi.asIntBuffer().put(s.indices(), 0, n);
                writeFully(idx, bi);
                ByteBuffer bv = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
                bv.asFloatBuffer().put(s.values(), 0, n);
                writeFully(val, bv);
                base += n;
            }
        }
        return List.of(ptrName, idxName, valName);
    }

    /** RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled. */
    static String csv(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) {
            return s;
        }
        return '"' + s.replace("\"", "\"\"") + '"';
    }

    /** Creates an .npy file (format 1.0) with its header (1-D when {@code cols < 0}); the caller appends the data, C order. */
    private static FileChannel create(Path file, String descr, long rows, int cols) throws IOException {
        byte[] header = cols < 0 ? NpyHeader.encode(descr, rows) : NpyHeader.encode(descr, rows, cols);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        writeFully(ch, ByteBuffer.wrap(header));
        return ch;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
