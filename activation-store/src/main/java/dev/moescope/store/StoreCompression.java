package dev.moescope.store;

import com.google.gson.annotations.SerializedName;

/**
 * Body compression of a store's Arrow files, chosen once per store. ZSTD (native, through zstd-jni) shrinks
 * float activations by only ~16% and defeats zero-copy memory mapping, so it is for archival. LZ4 is not offered:
 * Arrow Java's LZ4 codec is pure Java and was measured at under 0.01 MB/s.
 */
public enum StoreCompression {
    @SerializedName("none") NONE,
    @SerializedName("zstd") ZSTD;

    public static StoreCompression parse(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "none" -> NONE;
            case "zstd" -> ZSTD;
            default -> throw dev.moescope.core.error.MoescopeException.usage(
                    "compression must be none or zstd (LZ4 is not offered: Arrow Java's codec is too slow), got " + s);
        };
    }
}
