package dev.moescope.store.export;

import dev.moescope.store.ActivationStore;
import dev.moescope.store.Chunk;
import dev.moescope.store.Dtype;
import dev.moescope.store.HookSpec;
import dev.moescope.store.RoutingColumns;
import dev.moescope.store.RoutingSpec;
import dev.moescope.store.SparseRows;
import dev.moescope.store.TokenColumns;
import dev.moescope.store.arrow.Columns;
import dev.moescope.store.arrow.StoreSchemas;

import com.google.gson.JsonObject;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The flat "one row per token" table shared by the Hugging Face and Parquet exports: the tokens columns (domain
 * as a plain string: {@code datasets} decodes dictionaries anyway), {@code blocks.<L>.expert_ids} and
 * {@code blocks.<L>.gate_weights} per routed layer, one fixed-size list column per dense hook, and
 * {@code <hook>.indices} / {@code <hook>.values} variable-length lists per sparse hook. Every field is
 * nullable, as {@code datasets} declares them (nullability is part of Arrow type equality).
 */
final class TokenRowTable {

    private final ActivationStore store;
    private final List<HookSpec> hooks;
    private final Schema schema;
    private final Map<String, Object> features = new LinkedHashMap<>();

    TokenRowTable(ActivationStore store, List<HookSpec> hooks, Map<String, String> schemaMetadata) {
        this.store = store;
        this.hooks = hooks;
        List<Field> fields = new ArrayList<>();
        scalar(fields, StoreSchemas.DOC_INDEX, new ArrowType.Int(64, true), "int64");
        scalar(fields, StoreSchemas.DOC_ID, new ArrowType.Utf8(), "string");
        scalar(fields, StoreSchemas.DOMAIN, new ArrowType.Utf8(), "string");
        scalar(fields, StoreSchemas.POSITION, new ArrowType.Int(32, true), "int32");
        scalar(fields, StoreSchemas.TOKEN_ID, new ArrowType.Int(32, true), "int32");
        if (store.manifest().tokenText()) {
            scalar(fields, StoreSchemas.TOKEN, new ArrowType.Utf8(), "string");
        }
        for (RoutingSpec r : store.routing()) {
            list(fields, "blocks." + r.layer() + "." + StoreSchemas.EXPERT_IDS, new ArrowType.Int(32, true), "int32", r.topK());
            list(fields, "blocks." + r.layer() + "." + StoreSchemas.GATE_WEIGHTS, StoreSchemas.arrowType(Dtype.FLOAT32),
                    "float32", r.topK());
        }
        for (HookSpec h : hooks) {
            if (h.sparse()) {
                varList(fields, h.name() + "." + StoreSchemas.INDICES, new ArrowType.Int(32, true), "int32");
                varList(fields, h.name() + "." + StoreSchemas.VALUES, StoreSchemas.arrowType(Dtype.FLOAT32), "float32");
            } else {
                list(fields, h.name(), StoreSchemas.arrowType(h.dtype()), h.dtype().label(), h.width());
            }
        }
        schema = new Schema(fields, schemaMetadata);
    }

    private void scalar(List<Field> fields, String name, ArrowType type, String dtype) {
        fields.add(new Field(name, FieldType.nullable(type), null));
        features.put(name, HfFeatures.value(dtype));
    }

    private void list(List<Field> fields, String name, ArrowType element, String dtype, int length) {
        Field item = new Field("item", FieldType.nullable(element), null);
        fields.add(new Field(name, FieldType.nullable(new ArrowType.FixedSizeList(length)), List.of(item)));
        features.put(name, HfFeatures.sequence(dtype, length));
    }

    private void varList(List<Field> fields, String name, ArrowType element, String dtype) {
        Field item = new Field("item", FieldType.nullable(element), null);
        fields.add(new Field(name, FieldType.nullable(new ArrowType.List()), List.of(item)));
        features.put(name, HfFeatures.sequence(dtype, -1));
    }

    Schema schema() {
        return schema;
    }

    /** Feature JSON per column, in column order. */
    JsonObject features() {
        JsonObject o = new JsonObject();
        features.forEach((k, v) -> o.add(k, (JsonObject) v));
        return o;
    }

    /** Fills {@code root} (of {@link #schema()}) with the rows of {@code chunk}. */
    void fill(VectorSchemaRoot root, Chunk chunk) {
        int n = chunk.rows();
        long first = chunk.firstRow();
        TokenColumns t = store.readTokens(first, n);
        int col = 0;
        BigIntVector docIndex = (BigIntVector) root.getVector(col++);
        VarCharVector docId = (VarCharVector) root.getVector(col++);
        VarCharVector domain = (VarCharVector) root.getVector(col++);
        IntVector position = (IntVector) root.getVector(col++);
        IntVector tokenId = (IntVector) root.getVector(col++);
        VarCharVector text = t.text() != null ? (VarCharVector) root.getVector(col++) : null;
        for (var v : List.of(docIndex, docId, domain, position, tokenId)) {
            v.allocateNew();
        }
        if (text != null) {
            text.allocateNew();
        }
        for (int i = 0; i < n; i++) {
            docIndex.setSafe(i, t.docIndex()[i]);
            docId.setSafe(i, t.docId()[i].getBytes(StandardCharsets.UTF_8));
            domain.setSafe(i, t.domain()[i].getBytes(StandardCharsets.UTF_8));
            position.setSafe(i, t.position()[i]);
            tokenId.setSafe(i, t.tokenId()[i]);
            if (text != null) {
                if (t.text()[i] == null) {
                    text.setNull(i);
                } else {
                    text.setSafe(i, t.text()[i].getBytes(StandardCharsets.UTF_8));
                }
            }
        }
        for (RoutingSpec r : store.routing()) {
            RoutingColumns rc = store.readRouting(r.layer(), first, n);
            FixedSizeListVector ids = (FixedSizeListVector) root.getVector(col++);
            FixedSizeListVector w = (FixedSizeListVector) root.getVector(col++);
            Columns.allocate(ids, n);
            Columns.allocate(w, n);
            Columns.putInts(ids, 0, rc.expertIds(), 0, n, r.topK());
            Columns.putFloats(w, Dtype.FLOAT32, 0, rc.gateWeights(), 0, n, r.topK());
            Columns.seal(ids, n);
            Columns.seal(w, n);
        }
        for (HookSpec h : hooks) {
            if (h.sparse()) {
                SparseRows sr = store.readSparse(h.name(), first, n);
                Columns.putSparse((ListVector) root.getVector(col++), (ListVector) root.getVector(col++), sr.offsets(),
                        sr.indices(), sr.values(), n);
                continue;
            }
            FixedSizeListVector v = (FixedSizeListVector) root.getVector(col++);
            Columns.allocate(v, n);
            float[] values = store.readHook(h.name(), first, n);
            Columns.putFloats(v, h.dtype(), 0, values, 0, n, h.width());
            Columns.seal(v, n);
        }
        root.setRowCount(n);
    }
}
