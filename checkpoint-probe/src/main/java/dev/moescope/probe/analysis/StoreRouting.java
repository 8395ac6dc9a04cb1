package dev.moescope.probe.analysis;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.progress.Progress;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.Chunk;
import dev.moescope.store.RoutingColumns;
import dev.moescope.store.RoutingSpec;
import dev.moescope.store.TokenColumns;
import dev.moescope.store.stream.PairedStores;

import java.util.ArrayList;
import java.util.List;

/**
 * Routing read back from an activation store, record batch by record batch (memory: one batch of rows), into the
 * analyses: {@link #analyse} feeds a {@link RoutingAnalysis} (with full router logits when the store has them, and
 * each token's ground-truth next token from the following row of its document); {@link #compare} feeds a
 * {@link RoutingAgreement} from two stores recorded on the same tokens.
 */
public final class StoreRouting {

    private StoreRouting() {
    }

    /** Every routed token of {@code store} through a new analysis; bad input if the store records no routing. */
    public static RoutingAnalysis analyse(ActivationStore store, int vocabMinCount) {
        List<RoutingSpec> routing = store.routing();
        if (routing.isEmpty()) {
            throw MoescopeException.badInput(store.directory(), "the store records no routing (a dense model?)");
        }
        RoutingSpec first = routing.get(0);
        for (RoutingSpec r : routing) {
            if (r.experts() != first.experts() || r.topK() != first.topK()) {
                throw MoescopeException.badInput(store.directory(), "layers differ in experts or top-k ("
                        + first + " vs " + r + "); analyse them separately");
            }
        }
        int e = first.experts();
        int k = first.topK();
        RoutingAnalysis analysis = new RoutingAnalysis(e, k, vocabMinCount);
        List<String> logitHooks = new ArrayList<>();
        for (RoutingSpec r : routing) {
            String h = r.routerLogitsHook();
            logitHooks.add(store.hooks().stream().anyMatch(s -> s.name().equals(h)) ? h : null);
        }
        try (Progress progress = Progress.start("analyze", store.rows(), "tok")) {
            for (Chunk c : store.chunks()) {
                progress.stepBy(c.rows());
                long end = c.firstRow() + c.rows();
                TokenColumns t = store.readTokens(c.firstRow(), c.rows());
                TokenColumns after = end < store.rows() ? store.readTokens(end, 1) : null;
                for (int li = 0; li < routing.size(); li++) {
                    RoutingColumns rc = store.readRouting(routing.get(li).layer(), c.firstRow(), c.rows());
                    float[] logits = logitHooks.get(li) == null ? null : store.readHook(logitHooks.get(li), c.firstRow(), c.rows());
                    for (int i = 0; i < c.rows(); i++) {
                        int[] ids = new int[k];
                        float[] w = new float[k];
                        System.arraycopy(rc.expertIds(), i * k, ids, 0, k);
                        System.arraycopy(rc.gateWeights(), i * k, w, 0, k);
                        float[] lg = null;
                        if (logits != null) {
                            lg = new float[e];
                            System.arraycopy(logits, i * e, lg, 0, e);
                        }
                        long next = -1;
                        if (i + 1 < c.rows()) {
                            next = t.docIndex()[i + 1] == t.docIndex()[i] ? t.tokenId()[i + 1] : -1;
                        } else if (after != null && after.docIndex()[0] == t.docIndex()[i]) {
                            next = after.tokenId()[0];
                        }
                        analysis.accept(new TokenRouting(rc.layer(), ids, w, lg, t.domain()[i], t.tokenId()[i], next, -1,
                                t.docIndex()[i], t.position()[i]));
                    }
                }
            }
        }
        return analysis;
    }

    /**
     * Routing agreement between two stores on the same tokens (checked row by row first: document ids,
     * positions and token ids), over the layers both route.
     */
    public static RoutingAgreement compare(ActivationStore a, ActivationStore b) {
        PairedStores.verifyAlignment(List.of(a, b));
        List<RoutingSpec> layers = new ArrayList<>();
        for (RoutingSpec r : a.routing()) {
            if (b.routing().stream().anyMatch(x -> x.layer() == r.layer())) {
                layers.add(r);
            }
        }
        if (layers.isEmpty()) {
            throw MoescopeException.badInput(b.directory(), "routes no layer that " + a.directory() + " routes");
        }
        RoutingAgreement agreement = new RoutingAgreement();
        for (Chunk c : a.chunks()) {
            for (RoutingSpec r : layers) {
                RoutingColumns x = a.readRouting(r.layer(), c.firstRow(), c.rows());
                RoutingColumns y = b.readRouting(r.layer(), c.firstRow(), c.rows());
                for (int i = 0; i < c.rows(); i++) {
                    int[] ea = new int[x.topK()];
                    int[] eb = new int[y.topK()];
                    System.arraycopy(x.expertIds(), i * x.topK(), ea, 0, x.topK());
                    System.arraycopy(y.expertIds(), i * y.topK(), eb, 0, y.topK());
                    agreement.add(r.layer(), ea, eb);
                }
            }
        }
        return agreement;
    }
}
