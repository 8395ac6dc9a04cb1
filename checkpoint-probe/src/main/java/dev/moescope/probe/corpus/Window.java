package dev.moescope.probe.corpus;

/**
 * A slice of one document's tokens fed to the model as one sequence.
 *
 * @param doc        document index
 * @param domain     document domain
 * @param start      position of {@code ids[0]} in the document
 * @param ids        the tokens
 * @param firstScored tokens before this index are overlap context already recorded by the previous window
 * @param next       ground-truth next token of each id (the document's following token), -1 at the document end
 */
public record Window(long doc, String domain, int start, long[] ids, int firstScored, long[] next) {
}
