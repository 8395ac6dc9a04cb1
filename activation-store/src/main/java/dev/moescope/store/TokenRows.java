package dev.moescope.store;

import dev.moescope.core.error.Require;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A run of consecutive tokens of ONE document, with their activations and routing, appended to a store in one
 * call: {@code n} token ids, for each hook a row-major {@code float[n * width]}, for each routed layer
 * {@code int[n * k]} expert ids and {@code float[n * k]} gate weights. Arrays are read during
 * {@link StoreWriter#append} and not kept, so a caller may reuse them.
 *
 * <pre>{@code
 * writer.beginDocument("doc-17", "code");
 * writer.append(TokenRows.of(ids).texts(texts)
 *         .hook("blocks.0.resid_post", resid)          // float[n * 64]
 *         .routing(0, expertIds, gateWeights));        // int[n * 2], float[n * 2]
 * writer.endDocument();
 * }</pre>
 */
public final class TokenRows {

    private final int[] tokenIds;
    private final int count;
    private String[] texts;
    private final Map<String, float[]> hooks = new LinkedHashMap<>();
    private final Map<String, Integer> hookOffsets = new LinkedHashMap<>();
    private final Map<Integer, int[]> expertIds = new LinkedHashMap<>();
    private final Map<Integer, float[]> gateWeights = new LinkedHashMap<>();

    private TokenRows(int[] tokenIds) {
        this.tokenIds = tokenIds;
        this.count = tokenIds.length;
    }

    /** Rows for every id of {@code tokenIds}. */
    public static TokenRows of(int[] tokenIds) {
        Require.notNull("token ids", tokenIds);
        return new TokenRows(tokenIds);
    }

    /** The token texts, one per token (only stored when the store records token text). */
    public TokenRows texts(String[] tokenTexts) {
        Require.that(tokenTexts.length == count, "token texts", "one per token (" + count + ")", tokenTexts.length);
        this.texts = tokenTexts;
        return this;
    }

    /** Activations of {@code hook}, row-major {@code [n, width]}. */
    public TokenRows hook(String hook, float[] values) {
        return hook(hook, values, 0);
    }

    /**
     * Activations of {@code hook}, row-major {@code [n, width]} starting at index {@code offset} of {@code values}:
     * rows of a larger array (a batch holding several documents) are appended without copying them out first.
     */
    public TokenRows hook(String hook, float[] values, int offset) {
        Require.notNull("hook values", values);
        Require.that(offset >= 0 && offset <= values.length, "hook offset", "in [0, " + values.length + "]", offset);
        hooks.put(hook, values);
        hookOffsets.put(hook, offset);
        return this;
    }

    /** Routing of {@code layer}: row-major {@code [n, k]} expert ids (best first) and their gate weights. */
    public TokenRows routing(int layer, int[] ids, float[] weights) {
        expertIds.put(layer, ids);
        gateWeights.put(layer, weights);
        return this;
    }

    public int size() {
        return count;
    }

    int tokenId(int i) {
        return tokenIds[i];
    }

    String text(int i) {
        return texts == null ? null : texts[i];
    }

    boolean hasTexts() {
        return texts != null;
    }

    Map<String, float[]> hooks() {
        return hooks;
    }

    /** Where {@code hook}'s first row starts in its array. */
    int hookOffset(String hook) {
        return hookOffsets.getOrDefault(hook, 0);
    }

    Map<Integer, int[]> expertIds() {
        return expertIds;
    }

    Map<Integer, float[]> gateWeights() {
        return gateWeights;
    }
}
