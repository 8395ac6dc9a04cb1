package dev.moescope.core.djl;

import ai.djl.engine.Engine;
import dev.moescope.core.error.MoescopeException;

/**
 * Starts DJL's PyTorch engine offline. Must run before the first DJL class touches the engine: it turns off
 * DJL's run-time downloads and usage tracking, and fixes the intra- and inter-op thread counts.
 */
public final class DjlRuntime {

    private DjlRuntime() {
    }

    /** Sets the offline switches DJL reads (idempotent; safe to call from every entry point). */
    public static void configureOffline() {
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("OPT_OUT_TRACKING", "true");
        // The tokenizers loader picks a CUDA build and downloads it when it sees a GPU, unless told otherwise.
        if (System.getProperty("RUST_FLAVOR") == null && System.getenv("RUST_FLAVOR") == null) {
            System.setProperty("RUST_FLAVOR", "cpu");
        }
    }

    /**
     * The PyTorch engine with {@code threads} intra-op threads (0 keeps PyTorch's default of one per core).
     * Thread counts are read once, when the engine starts: later calls cannot change them.
     */
    public static Engine pytorch(int threads) {
        configureOffline();
        if (threads > 0) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
        try {
            return Engine.getEngine("PyTorch");
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            throw MoescopeException.failure("cannot start DJL's PyTorch engine offline: " + e.getMessage(), e);
        }
    }
}
