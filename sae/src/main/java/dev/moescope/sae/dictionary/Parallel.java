package dev.moescope.sae.dictionary;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A fixed pool for the Java kernels. Work is split into contiguous ranges and every output element is written by
 * exactly one task in a fixed order, so results are bit-identical run to run (exact {@code --resume} needs that).
 */
public final class Parallel implements AutoCloseable {

    /** Body of a parallel loop over {@code [lo, hi)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int lo, int hi);
    }

    private final int threads;
    private final ExecutorService pool;

    /** {@code threads} workers; 0 means one per available core. */
    public Parallel(int threads) {
        this.threads = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        this.pool = this.threads == 1 ? null : Executors.newFixedThreadPool(this.threads, r -> {
            Thread t = new Thread(r, "moescope-kernel");
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code body} over {@code [0, n)} split into about {@code 4 * threads} contiguous chunks. */
    public void forRange(int n, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int chunks = Math.min(n, threads == 1 ? 1 : threads * 4);
        if (chunks == 1 || pool == null) {
            body.run(0, n);
            return;
        }
        List<Future<?>> futures = new ArrayList<>(chunks);
        for (int c = 0; c < chunks; c++) {
            int lo = (int) ((long) n * c / chunks);
            int hi = (int) ((long) n * (c + 1) / chunks);
            futures.add(pool.submit(() -> body.run(lo, hi)));
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException re) {
                    throw re;
                }
                if (cause instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException(cause);
            }
        }
    }

    /** The chunk boundaries {@link #forRange} would use for {@code n}; lets callers keep per-chunk results. */
    public int[] chunkBounds(int n) {
        int chunks = Math.max(1, Math.min(n, threads == 1 ? 1 : threads * 4));
        int[] b = new int[chunks + 1];
        for (int c = 0; c <= chunks; c++) {
            b[c] = (int) ((long) n * c / chunks);
        }
        return b;
    }

    /** Runs {@code body(chunkIndex)} for each chunk of {@link #chunkBounds}. */
    public void forChunks(int chunks, java.util.function.IntConsumer body) {
        forRange(chunks, (lo, hi) -> {
            for (int c = lo; c < hi; c++) {
                body.accept(c);
            }
        });
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
