package dev.moescope.sae.eval;

import dev.moescope.core.json.AtomicFiles;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.store.ActivationStore;
import dev.moescope.store.TokenColumns;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Top-activating contexts per latent, rendered from an activation store's token table: for each kept activation
 * ({@link TopActivations}) the token, its document id, domain and position, and a window of the surrounding tokens
 * of the same document. Token strings where the store recorded them, else {@code #id}. Written as
 * {@code contexts.csv} (one row per latent and rank) and {@code contexts.json} (token lists, for tools).
 */
public final class StoreContexts {

    /** One context: the active token at {@code contextTokens[activeIndex]}. */
    public record Context(int rank, float activation, long storeRow, String docId, String domain, int position,
                          int tokenId, String token, List<String> contextTokens, int activeIndex) {
    }

    /** A latent's contexts, largest activation first. */
    public record LatentContexts(int latent, List<Context> top) {
    }

    /** What {@code contexts.json} holds. */
    public record File(Provenance provenance, String store, int perLatent, int before, int after,
                       List<LatentContexts> latents) {
    }

    private StoreContexts() {
    }

    /** Renders every latent that fired at least once; reads one token window per distinct row. */
    public static List<LatentContexts> render(TopActivations top, ActivationStore store, int before, int after) {
        Map<Long, Context> cache = new HashMap<>();
        List<LatentContexts> out = new ArrayList<>();
        for (int l = 0; l < top.latents(); l++) {
            List<TopActivations.Entry> entries = top.of(l);
            if (entries.isEmpty()) {
                continue;
            }
            List<Context> cs = new ArrayList<>(entries.size());
            int rank = 1;
            for (TopActivations.Entry e : entries) {
                Context c = cache.computeIfAbsent(e.row(), row -> window(store, row, before, after));
                cs.add(new Context(rank++, e.value(), c.storeRow(), c.docId(), c.domain(), c.position(), c.tokenId(),
                        c.token(), c.contextTokens(), c.activeIndex()));
            }
            out.add(new LatentContexts(l, cs));
        }
        return out;
    }

    private static Context window(ActivationStore store, long row, int before, int after) {
        long first = Math.max(0, row - before);
        long last = Math.min(store.rows() - 1, row + after);
        TokenColumns t = store.readTokens(first, (int) (last - first + 1));
        int at = (int) (row - first);
        long doc = t.docIndex()[at];
        List<String> tokens = new ArrayList<>();
        int active = -1;
        for (int i = 0; i < t.size(); i++) {
            if (t.docIndex()[i] != doc) {
                continue;
            }
            if (i == at) {
                active = tokens.size();
            }
            tokens.add(text(t, i));
        }
        return new Context(0, 0f, row, t.docId()[at], t.domain()[at], t.position()[at], t.tokenId()[at],
                text(t, at), tokens, active);
    }

    private static String text(TokenColumns t, int i) {
        return t.text() != null && t.text()[i] != null ? t.text()[i] : "#" + t.tokenId()[i];
    }

    /** Writes {@code contexts.csv} and {@code contexts.json} into {@code dir}. */
    public static void write(Path dir, List<LatentContexts> latents, Path store, int perLatent, int before, int after,
                             Provenance provenance) {
        StringBuilder csv = new StringBuilder("latent,rank,activation,store_row,doc_id,domain,position,token_id,token,context\n");
        for (LatentContexts lc : latents) {
            for (Context c : lc.top()) {
                StringBuilder ctx = new StringBuilder();
                for (int i = 0; i < c.contextTokens().size(); i++) {
                    if (i > 0) {
                        ctx.append(' ');
                    }
                    String tok = c.contextTokens().get(i);
                    ctx.append(i == c.activeIndex() ? "[[" + tok + "]]" : tok);
                }
                csv.append(lc.latent()).append(',').append(c.rank()).append(',').append(c.activation()).append(',')
                        .append(c.storeRow()).append(',').append(quote(c.docId())).append(',').append(quote(c.domain()))
                        .append(',').append(c.position()).append(',').append(c.tokenId()).append(',')
                        .append(quote(c.token())).append(',').append(quote(ctx.toString())).append('\n');
            }
        }
        AtomicFiles.writeString(dir.resolve("contexts.csv"), csv.toString());
        Json.write(dir.resolve("contexts.json"), new File(provenance, store.toAbsolutePath().toString(), perLatent,
                before, after, latents));
    }

    /** RFC 4180 quoting: always quoted, inner quotes doubled (token strings hold commas, quotes, newlines). */
    private static String quote(String s) {
        return '"' + (s == null ? "" : s.replace("\"", "\"\"")) + '"';
    }
}
