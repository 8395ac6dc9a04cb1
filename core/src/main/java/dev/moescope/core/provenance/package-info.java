/**
 * Provenance attached to every output moescope writes: which build, which operation with which parameters,
 * which inputs (by content hash), when, and on what machine, so a result can be traced and replayed.
 */
package dev.moescope.core.provenance;
