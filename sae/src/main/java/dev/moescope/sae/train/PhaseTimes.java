package dev.moescope.sae.train;

import java.util.LinkedHashMap;
import java.util.Map;

/** Wall time spent per named phase of the training step, accumulated over steps (for the benchmark breakdown). */
public final class PhaseTimes {

    private final Map<String, Long> nanos = new LinkedHashMap<>();
    private long last = System.nanoTime();

    /** Starts timing from now (call at the beginning of a step). */
    public void start() {
        last = System.nanoTime();
    }

    /** Charges the time since the last mark to {@code phase}. */
    public void mark(String phase) {
        long now = System.nanoTime();
        nanos.merge(phase, now - last, Long::sum);
        last = now;
    }

    /** Moves {@code nanos} of already charged time from one phase to another (a sub-phase measured inside). */
    public void move(String from, String to, long nanos) {
        this.nanos.merge(from, -nanos, Long::sum);
        this.nanos.merge(to, nanos, Long::sum);
    }

    public Map<String, Long> nanos() {
        return new LinkedHashMap<>(nanos);
    }

    public void reset() {
        nanos.clear();
        last = System.nanoTime();
    }
}
