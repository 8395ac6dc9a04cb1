package dev.moescope.probe.capture;

import dev.moescope.probe.analysis.RoutingAnalysis;
import dev.moescope.probe.analysis.TokenRouting;

/** Feeds captured routing, token by token and layer by layer, to a {@link RoutingAnalysis}. */
public final class AnalysisSink implements CaptureSink {

    private final RoutingAnalysis analysis;
    private final boolean withLogits;

    /** @param withLogits also pass full router logits (for router confidence statistics) */
    public AnalysisSink(RoutingAnalysis analysis, boolean withLogits) {
        this.analysis = analysis;
        this.withLogits = withLogits;
    }

    @Override
    public void accept(CapturedBatch b) {
        int e = analysis.numExperts();
        for (int li = 0; li < b.layers().length; li++) {
            for (int i = 0; i < b.tokens().size(); i++) {
                CapturedBatch.Token t = b.tokens().get(i);
                float[] logits = null;
                if (withLogits) {
                    logits = new float[e];
                    System.arraycopy(b.logits()[li], i * e, logits, 0, e);
                }
                analysis.accept(new TokenRouting(b.layers()[li], b.experts()[li][i], b.weights()[li][i], logits,
                        t.domain(), t.tokenId(), t.nextTokenId(), t.predictedId(), t.doc(), t.position()));
            }
        }
    }
}
