package dev.moescope.store;

import dev.moescope.core.error.Require;

/**
 * What recorded a store: a model or a tokenizer, by a human-readable name and the SHA-256 of its file(s). Two
 * stores can be paired, and a store appended to, only when these match.
 *
 * @param name   e.g. {@code fixture-moe} or a path as given
 * @param sha256 content hash, lower-case hex (empty when unknown, e.g. synthetic data)
 */
public record Identity(String name, String sha256) {

    public Identity {
        Require.notNull("identity name", name);
        sha256 = sha256 == null ? "" : sha256;
    }

    @Override
    public String toString() {
        return sha256.isEmpty() ? name : name + " (sha256 " + sha256.substring(0, Math.min(12, sha256.length())) + ")";
    }
}
