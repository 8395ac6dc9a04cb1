/**
 * Text in, token windows out: {@link dev.moescope.probe.corpus.CorpusReader} streams domain-labelled documents
 * from JSONL or plain-text files, {@link dev.moescope.probe.corpus.TextTokenizer} tokenises them with a local
 * {@code tokenizer.json} (truncation, padding and implicit special tokens off; BOS explicit), and
 * {@link dev.moescope.probe.corpus.Windows} cuts each document into fixed-length windows with optional overlap.
 */
package dev.moescope.probe.corpus;
