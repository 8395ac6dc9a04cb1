package dev.moescope.core.error;

/**
 * Argument checks for config records. Each failure is a {@link MoescopeException} with exit code
 * {@link ExitCode#USAGE}, naming the field, so that a record built from CLI options reports a bad option
 * value in the user's words.
 */
public final class Require {

    private Require() {
    }

    /** Fails with {@code "<field> must be <rule>, got <value>"} unless {@code ok}. */
    public static void that(boolean ok, String field, String rule, Object value) {
        if (!ok) {
            throw MoescopeException.usage(field + " must be " + rule + ", got " + value);
        }
    }

    public static int positive(String field, int value) {
        that(value > 0, field, "positive", value);
        return value;
    }

    public static long positive(String field, long value) {
        that(value > 0, field, "positive", value);
        return value;
    }

    public static double positive(String field, double value) {
        that(value > 0 && Double.isFinite(value), field, "positive and finite", value);
        return value;
    }

    public static int nonNegative(String field, int value) {
        that(value >= 0, field, "non-negative", value);
        return value;
    }

    public static double nonNegative(String field, double value) {
        that(value >= 0 && Double.isFinite(value), field, "non-negative and finite", value);
        return value;
    }

    /** {@code lo <= value < hi}. */
    public static double inHalfOpen(String field, double value, double lo, double hi) {
        that(value >= lo && value < hi, field, "in [" + lo + ", " + hi + ")", value);
        return value;
    }

    /** {@code lo <= value <= hi}. */
    public static double inClosed(String field, double value, double lo, double hi) {
        that(value >= lo && value <= hi, field, "in [" + lo + ", " + hi + "]", value);
        return value;
    }

    public static <T> T notNull(String field, T value) {
        that(value != null, field, "set", "nothing");
        return value;
    }
}
