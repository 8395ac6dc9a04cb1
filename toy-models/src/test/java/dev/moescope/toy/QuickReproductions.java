package dev.moescope.toy;

import dev.moescope.core.provenance.Provenance;
import dev.moescope.toy.experiments.ExperimentContext;
import dev.moescope.toy.experiments.Experiments;
import dev.moescope.toy.model.BiasInit;

import java.nio.file.Path;
import java.util.Map;

/** Runs a --quick experiment into a directory, as the CLI does. */
final class QuickReproductions {

    private QuickReproductions() {
    }

    static Map<String, Object> run(String name, Path dir) {
        return Experiments.byName(name).run(new ExperimentContext(dir, true, 0, 0,
                Provenance.start("test " + name).build()));
    }

    /** As {@link #run(String, Path)} with every experiment's output-bias init overridden. */
    static Map<String, Object> run(String name, Path dir, BiasInit bias) {
        return Experiments.byName(name).run(new ExperimentContext(dir, true, 0, 0,
                Provenance.start("test " + name).build(), 0, 0, java.util.List.of(), bias, null, false));
    }

    @SuppressWarnings("unchecked")
    static <T> T get(Map<String, Object> map, String... path) {
        Object v = map;
        for (String p : path) {
            v = ((Map<String, Object>) v).get(p);
        }
        return (T) v;
    }
}
