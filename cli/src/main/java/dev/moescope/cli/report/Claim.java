package dev.moescope.cli.report;

import java.util.ArrayList;
import java.util.List;

/**
 * One claim checked against a run, in the form any {@code summary.json} may carry under {@code "claims"}:
 * {@code {"claim", "expected", "measured", "supported": true|false|null}}. {@code null} (or no
 * {@code supported} field) means the run cannot decide it (too small a run, say); the measured numbers are shown
 * either way.
 *
 * @param claim     what is claimed, naming its source (a paper, or a quality bar)
 * @param expected  what would support it, with the threshold
 * @param measured  what this run measured, with numbers
 * @param supported whether the measurement supports the claim, or null when undecided
 */
public record Claim(String claim, String expected, String measured, Boolean supported) {

    /** The claims listed under {@code "claims"} in a summary (malformed entries are skipped). */
    static List<Claim> from(Doc summary) {
        List<Claim> out = new ArrayList<>();
        for (Doc c : summary.list("claims")) {
            String claim = c.str("claim");
            if (claim == null) {
                continue;
            }
            Doc s = c.get("supported");
            Boolean supported = s.isPrimitive() ? Boolean.valueOf(s.toString()) : null;
            out.add(new Claim(claim, orEmpty(c.str("expected")), orEmpty(c.str("measured")), supported));
        }
        return out;
    }

    /** "supported", "not supported" or "undecided". */
    String verdict() {
        return supported == null ? "undecided" : supported ? "supported" : "not supported";
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }
}
