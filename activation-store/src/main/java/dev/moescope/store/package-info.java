/**
 * The activation store: one row per token position, written by a probe and read by the SAE and crosscoder
 * trainers and by other tools.
 *
 * <p>A store is a directory holding {@code manifest.json} and one sub-directory per committed shard. Each shard
 * holds Arrow IPC <em>file</em>-format tables that align row by row: {@code tokens.arrow} (document index, document
 * id, domain, position, token id, optionally the token text), one {@code routing.blocks.<L>.arrow} per MoE layer
 * (top-k expert ids and gate weights) and one {@code <hook>.arrow} per activation hook (a
 * {@code FixedSizeList<float32|float16>} of the hook's width). Every file repeats what a reader needs in its
 * schema metadata, so a single file is self-describing.
 *
 * <p>Entry points: {@link dev.moescope.store.StoreWriter} (create or resume, append {@link dev.moescope.store.TokenRows}),
 * {@link dev.moescope.store.ActivationStore} (open, list, read ranges, stream, shuffle) and
 * {@link dev.moescope.store.stream.PairedStores} (several stores recorded on the same token stream).
 */
package dev.moescope.store;
