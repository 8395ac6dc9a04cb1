package dev.moescope.toy.experiments;

import dev.moescope.toy.model.TrainingConfig;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What an experiment tells the person who ran it: the settings it actually ran with (after --quick, --steps,
 * --seeds and --only) and a few named headline numbers. Each experiment fills one and stores it in its results
 * under {@link #SETTINGS} and {@link #HEADLINE}; {@link #lines} prints any experiment's, so the console needs no
 * per-experiment code.
 */
public final class ConsoleSummary {

    /** Results key of the settings map: name → value as run. */
    public static final String SETTINGS = "settings";

    /** Results key of the headline map: name → number, list of numbers, or short text. */
    public static final String HEADLINE = "headline";

    private final Map<String, Object> settings = new LinkedHashMap<>();
    private final Map<String, Object> headline = new LinkedHashMap<>();

    /** Starts with the training settings every experiment has: steps and batch size. */
    public static ConsoleSummary training(TrainingConfig config) {
        ConsoleSummary s = new ConsoleSummary();
        s.setting("steps", config.steps());
        s.setting("batch", config.batch());
        return s;
    }

    public ConsoleSummary setting(String name, Object value) {
        settings.put(name, value);
        return this;
    }

    public ConsoleSummary headline(String name, Object value) {
        headline.put(name, value);
        return this;
    }

    /** Puts both maps into an experiment's results and returns them. */
    public Map<String, Object> into(Map<String, Object> results) {
        results.put(SETTINGS, settings);
        results.put(HEADLINE, headline);
        return results;
    }

    /** The console lines of a results map: one per setting, then one per headline value ("name: value"). */
    public static List<String> lines(Map<String, Object> results) {
        List<String> lines = new ArrayList<>();
        for (String key : List.of(SETTINGS, HEADLINE)) {
            if (results.get(key) instanceof Map<?, ?> m) {
                m.forEach((name, value) -> lines.add(name + ": " + format(value)));
            }
        }
        return lines;
    }

    /** Integers as they are, other numbers to four significant digits, lists comma-separated. */
    public static String format(Object value) {
        if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            if (!Double.isFinite(d)) {
                return String.valueOf(d);
            }
            return d == Math.rint(d) && Math.abs(d) < 1e6 ? String.valueOf((long) d)
                    : new BigDecimal(d).round(new MathContext(4)).stripTrailingZeros().toPlainString();
        }
        if (value instanceof double[] a) {
            return format(java.util.Arrays.stream(a).boxed().toList());
        }
        if (value instanceof int[] a) {
            return format(java.util.Arrays.stream(a).boxed().toList());
        }
        if (value instanceof List<?> l) {
            List<String> parts = new ArrayList<>();
            l.forEach(v -> parts.add(format(v)));
            return String.join(", ", parts);
        }
        return String.valueOf(value);
    }

    /** "8 values, 1.00 to 0.10": the size and ends of a grid axis. */
    static String range(double[] values) {
        return String.format(Locale.ROOT, "%d values, %s to %s", values.length, format(values[0]),
                format(values[values.length - 1]));
    }
}
