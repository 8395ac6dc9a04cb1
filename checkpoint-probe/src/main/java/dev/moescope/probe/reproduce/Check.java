package dev.moescope.probe.reproduce;

import java.util.Locale;

/**
 * One row of a reproduction table: a quantity, what the paper (or the released artifact, or the spec) says, what
 * our code computed, the tolerance, and whether it is met.
 *
 * @param quantity  what is compared
 * @param paper     the published or released value, or the claim, as text
 * @param ours      our value, as text
 * @param tolerance how close counts as reproduced
 * @param status    met, not met, or reported (no target to meet)
 */
public record Check(String quantity, String paper, String ours, String tolerance, Status status) {

    /** Outcome of a check. */
    public enum Status {
        MET("met"), NOT_MET("not met"), REPORTED("reported");

        private final String label;

        Status(String label) {
            this.label = label;
        }

        @Override
        public String toString() {
            return label;
        }

        static Status of(boolean met) {
            return met ? MET : NOT_MET;
        }
    }

    /** |ours − paper| ≤ tol, with both shown to {@code digits} decimals. */
    static Check within(String quantity, double paper, double ours, double tol, int digits) {
        String f = "%." + digits + "f";
        return new Check(quantity, String.format(Locale.ROOT, f, paper), String.format(Locale.ROOT, f, ours),
                tol == 0 ? "exact" : "±" + fmtTol(tol), Status.of(Math.abs(ours - paper) <= tol));
    }

    /** |ours − reference| ≤ tol relative to |reference|, values shown in full. */
    static Check relative(String quantity, double reference, double ours, double relTol) {
        double err = Math.abs(ours - reference) / Math.max(Math.abs(reference), Double.MIN_NORMAL);
        return new Check(quantity, Double.toString(reference), Double.toString(ours),
                "relative " + fmtTol(relTol) + " (got " + String.format(Locale.ROOT, "%.1e", err) + ")",
                Status.of(err <= relTol));
    }

    /** A qualitative claim checked by a stated criterion. */
    static Check claim(String quantity, String paper, String ours, String criterion, boolean met) {
        return new Check(quantity, paper, ours, criterion, Status.of(met));
    }

    /** A figure with nothing to meet. */
    static Check reported(String quantity, String paper, String ours) {
        return new Check(quantity, paper, ours, "", Status.REPORTED);
    }

    private static String fmtTol(double t) {
        if (t == 0) {
            return "exact";
        }
        return t >= 0.01 ? String.format(Locale.ROOT, "%.4g", t) : String.format(Locale.ROOT, "%.0e", t);
    }
}
