package dev.moescope.sae.encode;

import ai.djl.engine.Engine;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.Json;
import dev.moescope.core.progress.Progress;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.sae.dictionary.SparseCodes;
import dev.moescope.sae.io.SaeLensExport;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.HookAppender;
import dev.moescope.store.HookSpec;
import dev.moescope.store.SparseRows;

import java.io.PrintWriter;
import java.nio.file.Path;

/**
 * {@code sae encode}: the latents of every row of a store's hook, written back into the same store as a sparse hook
 * ({@link HookSpec#sparse}: per token the active latent indices, ascending, and their values) aligned row by row
 * with the store's other tables. The store's {@link HookAppender} writes each shard's file under a temporary name
 * and swaps the manifest atomically at the end, so a failure (a NaN row, a full disk) leaves the store as it was.
 */
public final class StoreEncoding {

    private StoreEncoding() {
    }

    /** What {@code summary.json} of an encode holds. */
    public record Summary(Provenance provenance, String store, String hook, String outHook, int latents, long rows,
                          long emptyRows, long skippedNonFiniteRows, double meanL0, float threshold) {
    }

    public static Summary run(Engine engine, Path runDir, Path storeDir, String hook, String outHook,
                              boolean skipNonFinite, Path summaryDir, Provenance.Builder provenance, PrintWriter out) {
        SaeLensExport.RawSae sae = SaeLensExport.read(runDir);
        long rows;
        try (ActivationStore s = ActivationStore.open(storeDir)) {
            HookSpec h = s.hook(hook);
            if (h.width() != sae.width()) {
                throw MoescopeException.badInput(storeDir, "width mismatch: hook " + hook + " has width " + h.width()
                        + ", the SAE in " + runDir + " was trained on width " + sae.width());
            }
            if (s.manifest().hook(outHook) != null) {
                throw MoescopeException.badInput(storeDir, "already has a hook named " + outHook
                        + "; choose another --out-hook");
            }
            rows = s.rows();
        }
        long[] counts = new long[3]; // active entries, empty rows, skipped rows
        try (ThresholdEncoder enc = new ThresholdEncoder(engine, sae);
             Progress progress = Progress.start("sae encode", rows, "tok")) {
            HookAppender.addSparse(storeDir, HookSpec.sparse(outHook, sae.latents()), (store, chunk) -> {
                float[] x = store.readHook(hook, chunk.firstRow(), chunk.rows());
                int d = sae.width();
                boolean[] bad = null;
                for (int r = 0; r < chunk.rows(); r++) {
                    for (int j = 0; j < d; j++) {
                        if (!Float.isFinite(x[r * d + j])) {
                            if (!skipNonFinite) {
                                throw MoescopeException.badInput(storeDir, "hook " + hook + " row "
                                        + (chunk.firstRow() + r) + " column " + j + " is " + x[r * d + j]
                                        + " (use --skip-nonfinite to write no latents for such rows)");
                            }
                            if (bad == null) {
                                bad = new boolean[chunk.rows()];
                            }
                            bad[r] = true;
                            java.util.Arrays.fill(x, r * d, (r + 1) * d, 0f);
                            counts[2]++;
                            break;
                        }
                    }
                }
                SparseCodes c = enc.encode(x, chunk.rows());
                progress.stepBy(chunk.rows());
                return sparseRows(c, chunk.firstRow(), bad, counts);
            });
        }
        Provenance prov = provenance.build().finishedNow();
        Summary s = new Summary(prov, storeDir.toAbsolutePath().toString(), hook, outHook, sae.latents(), rows,
                counts[1], counts[2], (double) counts[0] / Math.max(1, rows), sae.theta());
        Json.write(summaryDir.resolve("summary.json"), s);
        out.printf("encoded %,d rows of %s with %s: hook %s (sparse, %d latents), mean L0 %.2f, %,d rows with no "
                + "active latent%s%n", rows, hook, runDir, outHook, sae.latents(), s.meanL0(), s.emptyRows(),
                s.skippedNonFiniteRows() > 0 ? ", " + s.skippedNonFiniteRows() + " non-finite rows left empty" : "");
        out.printf("wrote %s into %s, %s%n", outHook, storeDir, summaryDir.resolve("summary.json"));
        out.flush();
        return s;
    }

    /** The codes as the store's CSR rows; rows flagged {@code bad} get no entries. */
    private static SparseRows sparseRows(SparseCodes c, long firstRow, boolean[] bad, long[] counts) {
        int[] offsets = new int[c.rows + 1];
        int[] idx = new int[c.nnz()];
        float[] val = new float[c.nnz()];
        int o = 0;
        for (int r = 0; r < c.rows; r++) {
            if (bad == null || !bad[r]) {
                for (int p = c.rowPtr[r]; p < c.rowPtr[r + 1]; p++) {
                    idx[o] = c.cols[p];
                    val[o++] = c.vals[p];
                }
            }
            if (o == offsets[r]) {
                counts[1]++;
            }
            offsets[r + 1] = o;
        }
        counts[0] += o;
        return new SparseRows(firstRow, c.latents, offsets, java.util.Arrays.copyOf(idx, o),
                java.util.Arrays.copyOf(val, o));
    }
}
