package dev.moescope.store.arrow;

import dev.moescope.store.Dtype;

import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Arrow schemas of the three table kinds. Column order matters: the memory-mapped reader finds the
 * {@code doc_index}, {@code position} and {@code token_id} buffers by position, so they come first.
 */
public final class StoreSchemas {

    /** Tokens columns, in file order. */
    public static final String DOC_INDEX = "doc_index";
    public static final String POSITION = "position";
    public static final String TOKEN_ID = "token_id";
    public static final String DOC_ID = "doc_id";
    public static final String DOMAIN = "domain";
    public static final String TOKEN = "token";
    /** Routing columns. */
    public static final String EXPERT_IDS = "expert_ids";
    public static final String GATE_WEIGHTS = "gate_weights";
    /** Dictionary id of the domain column inside a tokens file. */
    public static final long DOMAIN_DICTIONARY_ID = 0;

    private StoreSchemas() {
    }

    public static ArrowType arrowType(Dtype dtype) {
        return new ArrowType.FloatingPoint(dtype == Dtype.FLOAT16 ? FloatingPointPrecision.HALF : FloatingPointPrecision.SINGLE);
    }

    /** {@code FixedSizeList<element>[width]} with child {@code item}, as pyarrow and Hugging Face name it. */
    public static Field fixedList(String name, ArrowType element, int width) {
        Field item = new Field("item", FieldType.notNullable(element), null);
        return new Field(name, FieldType.notNullable(new ArrowType.FixedSizeList(width)), List.of(item));
    }

    public static Schema hook(String hook, int width, Dtype dtype, TableMetadata meta) {
        return new Schema(List.of(fixedList(hook, arrowType(dtype), width)), meta.asSchemaMetadata());
    }

    /** Sparse hook columns. */
    public static final String INDICES = "indices";
    public static final String VALUES = "values";

    /** {@code indices: list<int32>, values: list<float32>}: the active latents of each row and their values. */
    public static Schema sparseHook(TableMetadata meta) {
        return new Schema(List.of(
                list(INDICES, new ArrowType.Int(32, true)),
                list(VALUES, arrowType(Dtype.FLOAT32))), meta.asSchemaMetadata());
    }

    private static Field list(String name, ArrowType element) {
        Field item = new Field("item", FieldType.notNullable(element), null);
        return new Field(name, FieldType.notNullable(new ArrowType.List()), List.of(item));
    }

    public static Schema routing(int topK, TableMetadata meta) {
        return new Schema(List.of(
                fixedList(EXPERT_IDS, new ArrowType.Int(32, true), topK),
                fixedList(GATE_WEIGHTS, arrowType(Dtype.FLOAT32), topK)), meta.asSchemaMetadata());
    }

    public static Schema tokens(boolean tokenText, TableMetadata meta) {
        List<Field> fields = new ArrayList<>();
        fields.add(new Field(DOC_INDEX, FieldType.notNullable(new ArrowType.Int(64, true)), null));
        fields.add(new Field(POSITION, FieldType.notNullable(new ArrowType.Int(32, true)), null));
        fields.add(new Field(TOKEN_ID, FieldType.notNullable(new ArrowType.Int(32, true)), null));
        fields.add(new Field(DOC_ID, FieldType.notNullable(new ArrowType.Utf8()), null));
        DictionaryEncoding enc = new DictionaryEncoding(DOMAIN_DICTIONARY_ID, false, new ArrowType.Int(32, true));
        fields.add(new Field(DOMAIN, new FieldType(false, new ArrowType.Int(32, true), enc), null));
        if (tokenText) {
            fields.add(new Field(TOKEN, FieldType.nullable(new ArrowType.Utf8()), null));
        }
        return new Schema(fields, meta.asSchemaMetadata());
    }

    /** Metadata key map helper for tests and tools. */
    public static TableMetadata metadataOf(Schema schema) {
        Map<String, String> m = schema.getCustomMetadata();
        return TableMetadata.from(m);
    }
}
