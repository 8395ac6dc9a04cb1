package dev.moescope.store.manifest;

/**
 * One file of a committed shard.
 *
 * @param name   file name inside the shard directory
 * @param bytes  size in bytes
 * @param sha256 SHA-256 of the content, lower-case hex
 */
public record FileEntry(String name, long bytes, String sha256) {
}
