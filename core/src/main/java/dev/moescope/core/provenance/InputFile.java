package dev.moescope.core.provenance;

/** An input named in provenance: its path as given, its size and SHA-256 of its content. */
public record InputFile(String path, long bytes, String sha256) {
}
