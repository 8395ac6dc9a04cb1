package dev.moescope.probe.analysis;

/**
 * One token's routing at one layer, as the analyses consume it.
 *
 * @param layer       MoE layer number
 * @param experts     chosen experts in rank order (by logit / selection score, best first)
 * @param weights     their gate weights (may be null when only ids are known)
 * @param logits      the full router logits [E], or null
 * @param domain      the token's corpus domain ("" if none)
 * @param tokenId     the input token id
 * @param nextTokenId the ground-truth next token id, or -1 at a document's end / if unknown
 * @param predictedId the model's predicted next token id (argmax of logits), or -1 if unknown
 * @param doc         the document (or window) the token belongs to
 * @param position    its position in that document; consecutive tokens are (doc, p) and (doc, p + 1)
 */
public record TokenRouting(int layer, int[] experts, float[] weights, float[] logits, String domain, long tokenId,
                           long nextTokenId, long predictedId, long doc, int position) {

    public TokenRouting {
        if (experts == null || experts.length == 0) {
            throw new IllegalArgumentException("a routing needs at least one expert");
        }
        domain = domain == null ? "" : domain;
    }

    /** Ids and domain only: enough for load, specialisation, co-activation and consecutive-token analyses. */
    public static TokenRouting of(int layer, int[] experts, String domain, long tokenId, long doc, int position) {
        return new TokenRouting(layer, experts, null, null, domain, tokenId, -1, -1, doc, position);
    }
}
