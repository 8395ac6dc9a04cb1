package dev.moescope.probe.capture;

import java.util.List;
import java.util.Map;

/**
 * The real (unpadded), scored tokens of one batch with their routing at every layer and any captured hooks.
 * Rows are aligned: row i of every array belongs to {@code tokens.get(i)}.
 *
 * @param tokens  per-token metadata
 * @param layers  MoE layer numbers, in order
 * @param experts per layer: [rows][k] chosen experts in rank order
 * @param weights per layer: [rows][k] gate weights
 * @param logits  per layer: [rows × E] router logits
 * @param hooks   hook name ({@code blocks.<L>.<kind>}) → [rows × width] values
 * @param widths  hook name → width
 */
public record CapturedBatch(List<Token> tokens, int[] layers, int[][][] experts, float[][][] weights,
                            float[][] logits, Map<String, float[]> hooks, Map<String, Integer> widths) {

    /**
     * One recorded token.
     *
     * @param doc         document index
     * @param domain      document domain
     * @param position    position in the document
     * @param tokenId     the token
     * @param nextTokenId the document's next token, -1 at its end
     * @param predictedId the model's argmax next-token prediction, -1 if the model has no logits output
     */
    public record Token(long doc, String domain, int position, long tokenId, long nextTokenId, long predictedId) {
    }
}
