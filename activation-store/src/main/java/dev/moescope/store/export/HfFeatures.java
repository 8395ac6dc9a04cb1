package dev.moescope.store.export;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

/**
 * Hugging Face {@code datasets} feature JSON, as {@code Features.to_dict} writes it. Fixed-length lists are
 * written as {@code Sequence} (the 3.x spelling, which 4.x still reads), so both major versions load them.
 */
final class HfFeatures {

    /** Extension type name under which {@code datasets} registers {@code Array2D} with pyarrow. */
    static final String ARRAY2D_EXTENSION = "datasets.features.features.Array2DExtensionType";

    private HfFeatures() {
    }

    static JsonObject value(String dtype) {
        JsonObject o = new JsonObject();
        o.addProperty("dtype", dtype);
        o.addProperty("_type", "Value");
        return o;
    }

    static JsonObject sequence(String dtype, int length) {
        JsonObject o = new JsonObject();
        o.add("feature", value(dtype));
        o.addProperty("length", length);
        o.addProperty("_type", "Sequence");
        return o;
    }

    static JsonObject array2d(int rows, int cols, String dtype) {
        JsonObject o = new JsonObject();
        JsonArray shape = new JsonArray();
        shape.add(rows);
        shape.add(cols);
        o.add("shape", shape);
        o.addProperty("dtype", dtype);
        o.addProperty("_type", "Array2D");
        return o;
    }

    /** {@code json.dumps((shape, dtype))}, the extension metadata {@code datasets} serialises. */
    static String array2dMetadata(int rows, int cols, String dtype) {
        return "[[" + rows + ", " + cols + "], \"" + dtype + "\"]";
    }
}
