package dev.moescope.store.manifest;

/**
 * One file of a committed shard.
 *
 * @param name   file name inside the shard directory
 * @param bytes  size in bytes
 * @param crc32c CRC32C of the content, 8 lower-case hex digits
 */
public record FileEntry(String name, long bytes, String crc32c) {
}
