package dev.moescope.toy.experiments;

import dev.moescope.core.error.MoescopeException;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every reproducible experiment by name. */
public final class Experiments {

    private static final Map<String, Experiment> ALL = new LinkedHashMap<>();

    static {
        for (Experiment e : List.<Experiment>of(new TmsIntro(), new TmsGeometry(), new Fig1Dense(),
                new Fig2Moe(), SparsitySweep.fig3(), SparsitySweep.loss(), new PhaseDiagrams(), new Fig5RouterRegions(),
                new Fig6Specialisation(), new Table1Specialisation())) {
            ALL.put(e.name(), e);
        }
    }

    private Experiments() {
    }

    public static Map<String, Experiment> all() {
        return java.util.Collections.unmodifiableMap(ALL);
    }

    /** The experiment called {@code name}; unknown names are usage errors listing the known ones. */
    public static Experiment byName(String name) {
        Experiment e = ALL.get(name);
        if (e == null) {
            throw MoescopeException.usage("unknown experiment '" + name + "' (expected one of "
                    + String.join(", ", ALL.keySet()) + ")");
        }
        return e;
    }
}
