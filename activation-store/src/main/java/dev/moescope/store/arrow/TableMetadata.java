package dev.moescope.store.arrow;

import com.google.gson.Gson;

import java.util.Map;

/**
 * What a single store file says about itself, kept as JSON under the schema metadata key {@link #KEY}: enough to
 * interpret the file without its manifest (table kind, hook and width, dtype, model and tokenizer, shard and row
 * range).
 *
 * @param formatVersion store layout version
 * @param table         {@code tokens}, {@code routing} or {@code hook}
 * @param hook          hook name (hook tables), else null
 * @param layer         MoE layer (routing tables), else -1
 * @param width         values per row (hook width, or top-k for routing), 0 for tokens
 * @param dtype         {@code float32} / {@code float16} for hooks, else null
 * @param model         model name and SHA-256
 * @param tokenizer     tokenizer name and SHA-256
 * @param shard         shard index
 * @param firstRow      global index of the file's first row
 */
public record TableMetadata(int formatVersion, String table, String hook, int layer, int width, String dtype,
                            String model, String tokenizer, int shard, long firstRow) {

    /** Schema metadata key (namespaced; {@code ARROW:} and {@code huggingface} are taken). */
    public static final String KEY = "moescope.store";

    /** Compact JSON: one line in the schema metadata. */
    private static final Gson GSON = new Gson();

    public Map<String, String> asSchemaMetadata() {
        return Map.of(KEY, GSON.toJson(this));
    }

    /** Parses the metadata of a schema, or returns null when the key is absent or unreadable. */
    public static TableMetadata from(Map<String, String> schemaMetadata) {
        if (schemaMetadata == null || !schemaMetadata.containsKey(KEY)) {
            return null;
        }
        try {
            return GSON.fromJson(schemaMetadata.get(KEY), TableMetadata.class);
        } catch (RuntimeException e) {
            return null;
        }
    }
}
