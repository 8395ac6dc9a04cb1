package dev.moescope.store.manifest;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.store.HookSpec;
import dev.moescope.store.Identity;
import dev.moescope.store.RoutingSpec;
import dev.moescope.store.StoreCompression;
import dev.moescope.store.StoreSpec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The content of a store's {@code manifest.json}. Immutable: the writer replaces it atomically (temp file,
 * fsync, rename) after each committed shard, so a reader sees either the old or the new list of shards.
 *
 * @param format        always {@link #FORMAT}
 * @param formatVersion layout version; a reader refuses versions newer than {@link #FORMAT_VERSION}
 * @param model         model identity
 * @param tokenizer     tokenizer identity
 * @param hooks         activation hooks
 * @param routing       routed MoE layers
 * @param tokenText     whether tokens carry their text
 * @param compression   Arrow body compression of every file
 * @param rows          total committed rows
 * @param documents     total committed documents
 * @param shards        committed shards, in order
 * @param provenance    how the store was made (the run that created it)
 */
public record Manifest(String format, int formatVersion, Identity model, Identity tokenizer, List<HookSpec> hooks,
                       List<RoutingSpec> routing, boolean tokenText, StoreCompression compression, long rows,
                       long documents, List<ShardEntry> shards, Provenance provenance) {

    /** File name of the manifest inside a store directory. */
    public static final String FILE_NAME = "manifest.json";
    /** Value of {@link #format()}. */
    public static final String FORMAT = "moescope-activation-store";
    /** The newest layout this build reads and the one it writes. */
    public static final int FORMAT_VERSION = 1;
    /** Name of the tokens table file inside a shard. */
    public static final String TOKENS_FILE = "tokens.arrow";

    public Manifest {
        hooks = hooks == null ? null : List.copyOf(hooks);
        routing = routing == null ? null : List.copyOf(routing);
        shards = shards == null ? null : List.copyOf(shards);
    }

    /** An empty store of {@code spec}. */
    public static Manifest empty(StoreSpec spec, Provenance provenance) {
        return new Manifest(FORMAT, FORMAT_VERSION, spec.model(), spec.tokenizer(), spec.hooks(), spec.routing(),
                spec.tokenText(), spec.compression(), 0, 0, List.of(), provenance);
    }

    /** This manifest with one more committed shard. */
    public Manifest withShard(ShardEntry shard) {
        List<ShardEntry> all = new ArrayList<>(shards);
        all.add(shard);
        return new Manifest(format, formatVersion, model, tokenizer, hooks, routing, tokenText, compression,
                rows + shard.rows(), documents + shard.documents(), all, provenance);
    }

    /** This manifest with one more hook, whose file in shard {@code i} is {@code files.get(i)}. */
    public Manifest withHook(HookSpec hook, List<FileEntry> files) {
        List<HookSpec> allHooks = new ArrayList<>(hooks);
        allHooks.add(hook);
        List<ShardEntry> all = new ArrayList<>();
        for (int i = 0; i < shards.size(); i++) {
            ShardEntry s = shards.get(i);
            List<FileEntry> f = new ArrayList<>(s.files());
            f.add(files.get(i));
            all.add(new ShardEntry(s.index(), s.directory(), s.firstRow(), s.rows(), s.firstDocument(), s.documents(),
                    s.lastDocumentId(), s.batchRows(), s.domainRows(), f));
        }
        return new Manifest(format, formatVersion, model, tokenizer, allHooks, routing, tokenText, compression, rows,
                documents, all, provenance);
    }

    /** The hook called {@code name}, or null. */
    public HookSpec hook(String name) {
        return HookSpec.find(hooks, name);
    }

    /** The routing of {@code layer}, or null. */
    public RoutingSpec routingOf(int layer) {
        return RoutingSpec.find(routing, layer);
    }

    /** Rows per domain over all shards. */
    public Map<String, Long> domainRows() {
        Map<String, Long> total = new java.util.TreeMap<>();
        for (ShardEntry s : shards) {
            s.domainRows().forEach((d, n) -> total.merge(d, n, Long::sum));
        }
        return total;
    }

    /**
     * Reads and checks the manifest of the store at {@code storeDir}: every problem (missing, malformed, newer
     * format, inconsistent counts after a hand edit) is a one-line bad-input error naming the manifest.
     */
    public static Manifest read(Path storeDir) {
        Path file = storeDir.resolve(FILE_NAME);
        Manifest m;
        try {
            m = Json.read(file, Manifest.class);
        } catch (MoescopeException e) {
            if (!java.nio.file.Files.isDirectory(storeDir)) {
                throw MoescopeException.badInput(storeDir, "no such store directory");
            }
            if (!java.nio.file.Files.exists(file)) {
                throw MoescopeException.badInput(file, "not an activation store (manifest.json is missing)");
            }
            throw e;
        } catch (RuntimeException e) {
            throw MoescopeException.badInput(file, "malformed manifest: " + e.getMessage(), e);
        }
        m.check(file);
        return m;
    }

    /** Writes this manifest atomically into {@code storeDir}. */
    public void write(Path storeDir) {
        Json.write(storeDir.resolve(FILE_NAME), this);
    }

    /** Whether a writer with {@code spec} may append to this store; the first difference, or null. */
    public String differenceFrom(StoreSpec spec) {
        if (!model.equals(spec.model())) {
            return "model identity differs: store has " + model + ", writer has " + spec.model();
        }
        if (!tokenizer.equals(spec.tokenizer())) {
            return "tokenizer identity differs: store has " + tokenizer + ", writer has " + spec.tokenizer();
        }
        if (!hooks.equals(spec.hooks())) {
            return "hooks differ: store has " + describe(hooks) + ", writer has " + describe(spec.hooks());
        }
        if (!routing.equals(spec.routing())) {
            return "routing differs: store has " + routing + ", writer has " + spec.routing();
        }
        if (tokenText != spec.tokenText()) {
            return "token text differs: store " + (tokenText ? "has" : "has no") + " token text";
        }
        if (compression != spec.compression()) {
            return "compression differs: store uses " + compression + ", writer asks for " + spec.compression();
        }
        return null;
    }

    private static String describe(List<HookSpec> hs) {
        List<String> parts = new ArrayList<>();
        for (HookSpec h : hs) {
            parts.add(h.name() + "[" + h.width() + " " + h.dtype().label() + "]");
        }
        return parts.toString();
    }

    private void check(Path file) {
        if (!FORMAT.equals(format)) {
            throw MoescopeException.badInput(file, "not an activation store manifest (format is '" + format + "')");
        }
        if (formatVersion > FORMAT_VERSION) {
            throw MoescopeException.badInput(file, "store format version " + formatVersion
                    + " is newer than this moescope reads (" + FORMAT_VERSION + "); upgrade moescope");
        }
        if (formatVersion < 1) {
            throw MoescopeException.badInput(file, "invalid format version " + formatVersion);
        }
        require(file, model != null && tokenizer != null, "model or tokenizer identity is missing");
        require(file, hooks != null && routing != null && shards != null && compression != null,
                "hooks, routing, shards or compression is missing");
        Map<String, Boolean> names = new HashMap<>();
        for (HookSpec h : hooks) {
            require(file, h != null && names.put(h.name(), true) == null, "duplicate or empty hook entry");
        }
        long row = 0;
        long doc = 0;
        for (int i = 0; i < shards.size(); i++) {
            ShardEntry s = shards.get(i);
            String where = "shard " + i + ": ";
            require(file, s != null && s.index() == i && Objects.equals(s.directory(), ShardEntry.directoryName(i)),
                    where + "index or directory out of sequence");
            require(file, s.firstRow() == row, where + "firstRow " + s.firstRow() + " but previous shards end at row " + row);
            require(file, s.firstDocument() == doc, where + "firstDocument " + s.firstDocument()
                    + " but previous shards end at document " + doc);
            require(file, s.rows() > 0 && s.documents() > 0 && s.documents() <= s.rows(), where + "bad row/document counts");
            require(file, s.batchRows() > 0, where + "batchRows must be positive");
            require(file, s.files() != null && s.domainRows() != null, where + "files or domainRows missing");
            long domainSum = s.domainRows().values().stream().mapToLong(Long::longValue).sum();
            require(file, domainSum == s.rows(), where + "domain rows sum to " + domainSum + ", not " + s.rows());
            require(file, s.file(TOKENS_FILE) != null, where + "tokens.arrow not listed");
            for (HookSpec h : hooks) {
                require(file, s.file(h.fileName()) != null, where + h.fileName() + " not listed");
            }
            for (RoutingSpec r : routing) {
                require(file, s.file(r.fileName()) != null, where + r.fileName() + " not listed");
            }
            row += s.rows();
            doc += s.documents();
        }
        require(file, row == rows, "rows is " + rows + " but the shards hold " + row);
        require(file, doc == documents, "documents is " + documents + " but the shards hold " + doc);
    }

    private static void require(Path file, boolean ok, String problem) {
        if (!ok) {
            throw MoescopeException.badInput(file, "inconsistent manifest: " + problem);
        }
    }
}
