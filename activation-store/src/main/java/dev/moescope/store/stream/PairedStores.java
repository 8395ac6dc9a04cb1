package dev.moescope.store.stream;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.Chunk;
import dev.moescope.store.HookSpec;
import dev.moescope.store.Identity;
import dev.moescope.store.TokenColumns;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Two or more stores recorded on the same token stream (an MoE and a dense model on the same corpus, or two
 * checkpoints), read row by row together. {@link #open} verifies the alignment first: same tokenizer, same row
 * count, and on every row the same document id, position and token id; the first mismatch is a one-line
 * bad-input error naming the row, the document and both values.
 *
 * <pre>{@code
 * try (PairedStores pair = PairedStores.open(List.of(moeDir, denseDir))) {
 *     try (ShuffledBatches b = pair.shuffled(List.of("blocks.1.moe_out", "blocks.1.mlp_out"), ShuffleConfig.training(4096, seed))) {
 *         HookBatch batch = b.next();   // batch.values(0): MoE rows, batch.values(1): dense rows, same tokens
 *     }
 * }
 * }</pre>
 */
public final class PairedStores implements AutoCloseable {

    private static final int VERIFY_ROWS = 65_536;

    private final List<ActivationStore> stores;

    private PairedStores(List<ActivationStore> stores) {
        this.stores = stores;
    }

    /** Opens every store and verifies that they are aligned row by row. */
    public static PairedStores open(List<Path> dirs) {
        if (dirs.size() < 2) {
            throw MoescopeException.usage("paired reading needs at least two stores, got " + dirs.size());
        }
        List<ActivationStore> opened = new ArrayList<>();
        try {
            for (Path d : dirs) {
                opened.add(ActivationStore.open(d));
            }
            verifyAlignment(opened);
        } catch (RuntimeException e) {
            for (ActivationStore s : opened) {
                s.close();
            }
            throw e;
        }
        return new PairedStores(opened);
    }

    /** Checks tokenizer, row counts and every row's document id, position and token id; throws on the first mismatch. */
    public static void verifyAlignment(List<ActivationStore> stores) {
        ActivationStore a = stores.get(0);
        for (int i = 1; i < stores.size(); i++) {
            ActivationStore b = stores.get(i);
            if (!sameTokenizer(a.tokenizer(), b.tokenizer())) {
                throw MoescopeException.badInput(b.directory(), "tokenizer " + b.tokenizer() + " differs from "
                        + a.tokenizer() + " of " + a.directory() + ": not the same token stream");
            }
            if (a.rows() != b.rows()) {
                throw MoescopeException.badInput(b.directory(), "has " + b.rows() + " rows but " + a.directory()
                        + " has " + a.rows() + ": not the same token stream");
            }
            for (long row = 0; row < a.rows(); row += VERIFY_ROWS) {
                int n = (int) Math.min(VERIFY_ROWS, a.rows() - row);
                TokenColumns ta = a.readTokens(row, n);
                TokenColumns tb = b.readTokens(row, n);
                for (int r = 0; r < n; r++) {
                    String what = null;
                    if (!ta.docId()[r].equals(tb.docId()[r])) {
                        what = "document id '" + tb.docId()[r] + "' vs '" + ta.docId()[r] + "'";
                    } else if (ta.position()[r] != tb.position()[r]) {
                        what = "position " + tb.position()[r] + " vs " + ta.position()[r];
                    } else if (ta.tokenId()[r] != tb.tokenId()[r]) {
                        what = "token id " + tb.tokenId()[r] + " vs " + ta.tokenId()[r];
                    }
                    if (what != null) {
                        throw MoescopeException.badInput(b.directory(), "not aligned with " + a.directory()
                                + ": first mismatch at row " + (row + r) + " (document '" + ta.docId()[r]
                                + "', position " + ta.position()[r] + "): " + what);
                    }
                }
            }
        }
    }

    private static boolean sameTokenizer(Identity x, Identity y) {
        if (!x.sha256().isEmpty() && !y.sha256().isEmpty()) {
            return x.sha256().equals(y.sha256());
        }
        return x.name().equals(y.name());
    }

    public List<ActivationStore> stores() {
        return stores;
    }

    public long rows() {
        return stores.get(0).rows();
    }

    /** Batches of {@code hooks.get(i)} from store {@code i}, all on the same rows; a missing hook is bad input. */
    public ShuffledBatches shuffled(List<String> hooks, ShuffleConfig config) {
        if (hooks.size() != stores.size()) {
            throw MoescopeException.usage("one hook per store: " + stores.size() + " stores, " + hooks.size() + " hooks");
        }
        List<HookSpec> specs = new ArrayList<>();
        for (int i = 0; i < hooks.size(); i++) {
            specs.add(stores.get(i).hook(hooks.get(i)));
        }
        return new ShuffledBatches(stores, specs, config);
    }

    /** Record batches of the first store (the others hold the same rows, possibly cut differently). */
    public List<Chunk> chunks() {
        return stores.get(0).chunks();
    }

    @Override
    public void close() {
        for (ActivationStore s : stores) {
            s.close();
        }
    }
}
