/**
 * {@code manifest.json}: the single source of truth of what a store holds (format version, identities, hooks,
 * routing, committed shards with row counts and checksums, provenance), and the checks that reject a manifest
 * that is malformed, edited inconsistently, or from a newer format.
 */
package dev.moescope.store.manifest;
