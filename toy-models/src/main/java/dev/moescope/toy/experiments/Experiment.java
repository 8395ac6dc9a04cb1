package dev.moescope.toy.experiments;

import java.util.Map;

/** One reproducible figure or table. */
public interface Experiment {

    /** The CLI name, e.g. {@code fig2}. */
    String name();

    /** One line: what it reproduces. */
    String description();

    /** Runs it, writing weights and figures under {@code ctx.out()}; returns the key numbers for summary.json. */
    Map<String, Object> run(ExperimentContext ctx);
}
