package dev.moescope.cli.probe;

import dev.moescope.core.provenance.Provenance;
import dev.moescope.probe.capture.CorpusProbe;
import dev.moescope.probe.corpus.CorpusReader;
import dev.moescope.probe.corpus.TextTokenizer;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;

/** Corpus, tokenizer and batching options shared by the probe commands that run a model over text. */
public final class CorpusOptions {

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE",
            description = "Local tokenizer.json (or a directory holding it). Truncation and padding are off.")
    Path tokenizer;

    @Option(names = "--corpus", required = true, paramLabel = "PATH",
            description = "A .jsonl file, a .txt file (one document per line, domain = file name) or a directory of them.")
    Path corpus;

    @Option(names = "--text-field", defaultValue = "text", paramLabel = "NAME",
            description = "JSONL text field (default: ${DEFAULT-VALUE}).")
    String textField;

    @Option(names = "--domain-field", defaultValue = "domain", paramLabel = "NAME",
            description = "JSONL domain field (default: ${DEFAULT-VALUE}); 'none' for a corpus without domains.")
    String domainField;

    @Option(names = "--domains", split = ",", paramLabel = "D", description = "Keep only these domains.")
    List<String> domains;

    @Option(names = "--max-docs", defaultValue = "0", paramLabel = "N",
            description = "Stop after N documents (0 = all).")
    long maxDocs;

    @Option(names = "--max-tokens", defaultValue = "0", paramLabel = "N",
            description = "Stop after N tokens (0 = all).")
    long maxTokens;

    @Option(names = "--seq-len", defaultValue = "256", paramLabel = "N",
            description = "Window length in tokens (default: ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--overlap", defaultValue = "0", paramLabel = "N",
            description = "Context tokens repeated at the start of a document's next window (not recorded twice).")
    int overlap;

    @Option(names = "--batch", defaultValue = "8", paramLabel = "N",
            description = "Windows per model run (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--bos", defaultValue = "-1", paramLabel = "ID",
            description = "Token id put before every document (default: none; no special tokens are added implicitly).")
    long bos;

    /**
     * Opens the tokenizer with {@code --bos}. A tokenizer whose post-processor prepends special tokens (a BOS) that
     * the model was trained with gets a one-line note with the results ({@code out}) when {@code --bos} was not
     * given: moescope adds no special tokens unless asked, so results would silently differ from the model's usual
     * input. (Not on stderr, which carries at most the one-line error.)
     */
    TextTokenizer openTokenizer(java.io.PrintWriter out) {
        TextTokenizer tok = TextTokenizer.open(tokenizer, bos);
        long[] prefix = tok.postProcessorPrefix();
        if (!tok.prependsBos() && prefix.length > 0) {
            out.println("note: " + tok.file() + " prepends token id " + prefix[0] + " to every text; "
                    + "moescope adds none unless asked: pass --bos " + prefix[0] + " to feed the model what it saw "
                    + "in training");
            out.flush();
        }
        return tok;
    }

    /** Records every corpus, tokenizer and batching option in {@code prov} (one list for every probe command). */
    Provenance.Builder record(Provenance.Builder prov) {
        return prov.parameter("corpus", corpus).parameter("tokenizer", tokenizer)
                .parameter("seq-len", seqLen).parameter("overlap", overlap)
                .parameter("batch", batch).parameter("max-tokens", maxTokens)
                .parameter("max-docs", maxDocs).parameter("domains", domains)
                .parameter("text-field", textField).parameter("domain-field", domainField)
                .parameter("bos", bos);
    }

    CorpusReader.Options readOptions() {
        return new CorpusReader.Options(textField, domainField.equals("none") ? null : domainField,
                domains == null ? null : new LinkedHashSet<>(domains), maxDocs);
    }

    CorpusProbe.Options batchOptions() {
        return new CorpusProbe.Options(seqLen, overlap, batch, maxTokens);
    }
}
