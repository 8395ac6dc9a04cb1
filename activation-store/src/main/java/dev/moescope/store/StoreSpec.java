package dev.moescope.store;

import dev.moescope.core.error.Require;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The shape and identity of a store, fixed when it is created: rows appended later must match it.
 *
 * @param model       the model that produced the activations
 * @param tokenizer   the tokenizer that produced the token ids
 * @param hooks       activation hooks, each with width and dtype (names unique)
 * @param routing     MoE layers whose routing is recorded (layers unique)
 * @param tokenText   whether the tokens table carries each token's text
 * @param compression body compression of every Arrow file
 * @param shardRows   a shard is committed at the first document end after this many rows (crash-safety granularity)
 * @param batchRows   rows per Arrow record batch (the unit of reading; all tables of a shard share the boundaries)
 */
public record StoreSpec(Identity model, Identity tokenizer, List<HookSpec> hooks, List<RoutingSpec> routing,
                        boolean tokenText, StoreCompression compression, int shardRows, int batchRows) {

    /** Target bytes of one record batch of the widest hook: Arrow reads best at 8-64 MB batches. */
    private static final long TARGET_BATCH_BYTES = 8L << 20;

    public StoreSpec {
        Require.notNull("model identity", model);
        Require.notNull("tokenizer identity", tokenizer);
        hooks = List.copyOf(hooks);
        routing = List.copyOf(routing);
        Require.notNull("compression", compression);
        Require.positive("shard rows", shardRows);
        Require.positive("batch rows", batchRows);
        Set<String> names = new HashSet<>();
        for (HookSpec h : hooks) {
            Require.that(names.add(h.name()), "hook names", "unique", h.name());
        }
        Set<Integer> layers = new HashSet<>();
        for (RoutingSpec r : routing) {
            Require.that(layers.add(r.layer()), "routing layers", "unique", r.layer());
        }
    }

    /** Starts a spec for activations of {@code model} tokenised by {@code tokenizer}. */
    public static Builder builder(Identity model, Identity tokenizer) {
        return new Builder(model, tokenizer);
    }

    /** The hook called {@code name}, or null. */
    public HookSpec hook(String name) {
        return HookSpec.find(hooks, name);
    }

    /** The routing of {@code layer}, or null. */
    public RoutingSpec routingOf(int layer) {
        return RoutingSpec.find(routing, layer);
    }

    /** Builds a {@link StoreSpec}; batch rows default to ~8 MB batches of the widest hook. */
    public static final class Builder {
        private final Identity model;
        private final Identity tokenizer;
        private final List<HookSpec> hooks = new ArrayList<>();
        private final List<RoutingSpec> routing = new ArrayList<>();
        private boolean tokenText;
        private StoreCompression compression = StoreCompression.NONE;
        private int shardRows = 65_536;
        private int batchRows;

        private Builder(Identity model, Identity tokenizer) {
            this.model = model;
            this.tokenizer = tokenizer;
        }

        public Builder hook(String name, int width) {
            return hook(new HookSpec(name, width, Dtype.FLOAT32));
        }

        public Builder hook(String name, int width, Dtype dtype) {
            return hook(new HookSpec(name, width, dtype));
        }

        public Builder hook(HookSpec hook) {
            hooks.add(hook);
            return this;
        }

        public Builder routing(int layer, int topK, int experts) {
            routing.add(new RoutingSpec(layer, topK, experts));
            return this;
        }

        public Builder tokenText(boolean on) {
            tokenText = on;
            return this;
        }

        public Builder compression(StoreCompression c) {
            compression = c;
            return this;
        }

        public Builder shardRows(int rows) {
            shardRows = rows;
            return this;
        }

        public Builder batchRows(int rows) {
            batchRows = rows;
            return this;
        }

        public StoreSpec build() {
            int batch = batchRows;
            if (batch == 0) {
                long widest = 1;
                for (HookSpec h : hooks) {
                    widest = Math.max(widest, (long) h.width() * h.dtype().bytes());
                }
                batch = (int) Math.max(256, Math.min(16_384, TARGET_BATCH_BYTES / widest));
                batch = Math.min(batch, Math.max(1, shardRows));
            }
            return new StoreSpec(model, tokenizer, hooks, routing, tokenText, compression, shardRows, batch);
        }
    }
}
