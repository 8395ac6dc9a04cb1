package dev.moescope.toy;

import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.toy.experiments.ExperimentContext;
import dev.moescope.toy.experiments.Experiments;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

class QuickAllScratchTest {
    @Test
    void runAll() throws Exception {
        for (String name : Experiments.all().keySet()) {
            Path dir = Path.of("/tmp/toyquick/" + name);
            Files.createDirectories(dir);
            long t0 = System.nanoTime();
            Map<String, Object> r = Experiments.byName(name).run(new ExperimentContext(dir, true, 0, 0, Provenance.start("t").build()));
            Json.write(dir.resolve("summary.json"), r);
            System.out.println("QUICK " + name + " " + (System.nanoTime() - t0) / 1e9 + " s");
        }
    }
}
