package dev.moescope.store.synthetic;

import dev.moescope.core.Seeds;
import dev.moescope.core.error.Require;
import dev.moescope.store.HookSpec;
import dev.moescope.store.RoutingSpec;
import dev.moescope.store.StoreSpec;
import dev.moescope.store.StoreWriter;
import dev.moescope.store.TokenRows;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A reproducible synthetic corpus with activations: document {@code i} (id {@code doc-i}, a domain, a length in
 * {@code [minLength, maxLength]}, token ids below {@code vocab}) and its activations for every hook and routing
 * of a {@link StoreSpec} depend only on the seed and {@code i}. Hook values are a per-token-id base vector plus
 * Gaussian noise (so they carry structure), routing picks distinct experts biased by domain, with softmax gate
 * weights in descending order.
 *
 * @param seed      seed of everything
 * @param vocab     vocabulary size
 * @param domains   domain labels, assigned round-robin-ish by hash
 * @param minLength shortest document
 * @param maxLength longest document
 */
public record SyntheticCorpus(long seed, int vocab, List<String> domains, int minLength, int maxLength) {

    public SyntheticCorpus {
        Require.positive("vocab", vocab);
        Require.that(!domains.isEmpty(), "domains", "non-empty", domains);
        Require.positive("min length", minLength);
        Require.that(maxLength >= minLength, "max length", "at least min length", maxLength);
        domains = List.copyOf(domains);
    }

    /** A small default: 1000 tokens, three domains, documents of 8 to 96 tokens. */
    public static SyntheticCorpus small(long seed) {
        return new SyntheticCorpus(seed, 1000, List.of("code", "math", "prose"), 8, 96);
    }

    /** One document's tokens. */
    public record Document(long index, String id, String domain, int[] tokenIds, String[] texts) {
    }

    public Document document(long index) {
        SplittableRandom r = Seeds.random(seed, "synthetic document " + index);
        int length = minLength + r.nextInt(maxLength - minLength + 1);
        String domain = domains.get((int) Math.floorMod(index * 7 + r.nextInt(2), domains.size()));
        int[] ids = new int[length];
        String[] texts = new String[length];
        for (int i = 0; i < length; i++) {
            ids[i] = r.nextInt(vocab);
            texts[i] = "t" + ids[i];
        }
        return new Document(index, "doc-" + index, domain, ids, texts);
    }

    /** The rows of document {@code doc} for {@code spec}: every hook and routing the spec records. */
    public TokenRows rows(StoreSpec spec, Document doc) {
        int n = doc.tokenIds().length;
        TokenRows rows = TokenRows.of(doc.tokenIds());
        if (spec.tokenText()) {
            rows.texts(doc.texts());
        }
        SplittableRandom noise = Seeds.random(seed, "synthetic activations " + doc.index());
        for (HookSpec h : spec.hooks()) {
            float[] v = new float[n * h.width()];
            for (int t = 0; t < n; t++) {
                SplittableRandom base = Seeds.random(seed, "token base " + h.name() + " " + doc.tokenIds()[t]);
                for (int j = 0; j < h.width(); j++) {
                    v[t * h.width() + j] = (float) (base.nextDouble(-1, 1) + 0.25 * gaussian(noise));
                }
            }
            rows.hook(h.name(), v);
        }
        int domainIndex = domains.indexOf(doc.domain());
        for (RoutingSpec rs : spec.routing()) {
            int k = rs.topK();
            int[] ids = new int[n * k];
            float[] w = new float[n * k];
            for (int t = 0; t < n; t++) {
                // experts near the domain's "home" expert are likelier: routing depends on the domain
                boolean[] used = new boolean[rs.experts()];
                double[] logits = new double[k];
                for (int j = 0; j < k; j++) {
                    int e;
                    do {
                        e = noise.nextDouble() < 0.6
                                ? Math.floorMod(domainIndex * 3 + rs.layer() + noise.nextInt(2), rs.experts())
                                : noise.nextInt(rs.experts());
                    } while (used[e]);
                    used[e] = true;
                    ids[t * k + j] = e;
                    logits[j] = -j - noise.nextDouble();
                }
                double sum = 0;
                for (int j = 0; j < k; j++) {
                    sum += Math.exp(logits[j]);
                }
                for (int j = 0; j < k; j++) {
                    w[t * k + j] = (float) (Math.exp(logits[j]) / sum);
                }
            }
            rows.routing(rs.layer(), ids, w);
        }
        return rows;
    }

    /** Writes documents {@code [from, to)} through {@code writer}. */
    public void write(StoreWriter writer, long from, long to) {
        for (long i = from; i < to; i++) {
            Document d = document(i);
            writer.beginDocument(d.id(), d.domain());
            writer.append(rows(writer.spec(), d));
            writer.endDocument();
        }
    }

    /** Documents {@code [0, n)} give how many rows. */
    public long rowsOf(long documents) {
        long rows = 0;
        for (long i = 0; i < documents; i++) {
            rows += document(i).tokenIds().length;
        }
        return rows;
    }

    private static double gaussian(SplittableRandom r) {
        double u = 1.0 - r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }
}
