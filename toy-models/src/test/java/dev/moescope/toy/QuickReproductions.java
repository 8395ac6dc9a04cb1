package dev.moescope.toy;

import dev.moescope.core.provenance.Provenance;
import dev.moescope.toy.experiments.ExperimentContext;
import dev.moescope.toy.experiments.Experiments;

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

    @SuppressWarnings("unchecked")
    static <T> T get(Map<String, Object> map, String... path) {
        Object v = map;
        for (String p : path) {
            v = ((Map<String, Object>) v).get(p);
        }
        return (T) v;
    }
}
