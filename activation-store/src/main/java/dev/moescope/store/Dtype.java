package dev.moescope.store;

import com.google.gson.annotations.SerializedName;

/** Element type of a stored activation: float32 by default, float16 to halve the size of large stores. */
public enum Dtype {
    @SerializedName("float32") FLOAT32("float32", 4),
    @SerializedName("float16") FLOAT16("float16", 2);

    private final String label;
    private final int bytes;

    Dtype(String label, int bytes) {
        this.label = label;
        this.bytes = bytes;
    }

    /** The numpy / Hugging Face spelling: {@code float32}, {@code float16}. */
    public String label() {
        return label;
    }

    public int bytes() {
        return bytes;
    }

    public static Dtype parse(String s) {
        for (Dtype d : values()) {
            if (d.label.equalsIgnoreCase(s)) {
                return d;
            }
        }
        throw dev.moescope.core.error.MoescopeException.usage("dtype must be float32 or float16, got " + s);
    }
}
