package dev.moescope.probe.corpus;

/**
 * One corpus document.
 *
 * @param index  its number in reading order (0-based), used as the document id in routing records
 * @param source file and line it came from, for messages
 * @param domain its domain label ("" if the corpus has none)
 * @param text   its text
 */
public record Document(long index, String source, String domain, String text) {
}
