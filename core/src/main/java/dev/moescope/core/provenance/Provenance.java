package dev.moescope.core.provenance;

import dev.moescope.core.BuildInfo;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where an output came from: the build that made it, the operation and its parameters (the seed among them),
 * the inputs by content hash, when it started and finished, and the machine it ran on. Every {@code summary.json},
 * store manifest and saved model carries one (Tribuo's idea: a result should explain itself).
 *
 * @param tool        always {@code "moescope"}
 * @param version     the moescope version
 * @param gitCommit   the commit moescope was built from, empty if unknown
 * @param operation   what ran, e.g. {@code "toy reproduce fig2"} or {@code "sae train"}
 * @param parameters  every parameter that shaped the result, as strings
 * @param inputs      input files and directories with their SHA-256
 * @param started     when the operation started
 * @param finished    when it finished (equal to {@code started} for provenance written before the end)
 * @param environment JVM, OS, cores and native library versions
 */
public record Provenance(String tool, String version, String gitCommit, String operation,
                         Map<String, String> parameters, List<InputFile> inputs, Instant started, Instant finished,
                         Map<String, String> environment) {

    public Provenance {
        parameters = Map.copyOf(parameters);
        inputs = List.copyOf(inputs);
        environment = Map.copyOf(environment);
    }

    /** Starts recording provenance for {@code operation}, now. */
    public static Builder start(String operation) {
        return new Builder(operation);
    }

    /** The same provenance, finished now. */
    public Provenance finishedNow() {
        return new Provenance(tool, version, gitCommit, operation, parameters, inputs, started, Instant.now(), environment);
    }

    /** Collects parameters and inputs while an operation runs. */
    public static final class Builder {
        private final String operation;
        private final Instant started = Instant.now();
        private final Map<String, String> parameters = new LinkedHashMap<>();
        private final List<InputFile> inputs = new ArrayList<>();

        private Builder(String operation) {
            this.operation = operation;
        }

        public Builder parameter(String name, Object value) {
            parameters.put(name, String.valueOf(value));
            return this;
        }

        public Builder parameters(Map<String, ?> values) {
            values.forEach(this::parameter);
            return this;
        }

        /** Records an input by content hash (reads it once, streaming). */
        public Builder input(Path path) {
            inputs.add(Hashing.describe(path));
            return this;
        }

        /** Records an input whose hash is already known (a store's manifest hash, say). */
        public Builder input(InputFile file) {
            inputs.add(file);
            return this;
        }

        /** Provenance as of now; call again at the end for the finished time. */
        public Provenance build() {
            BuildInfo b = BuildInfo.current();
            Map<String, String> env = new LinkedHashMap<>();
            env.put("java", System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")");
            env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                    + System.getProperty("os.arch"));
            env.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
            env.put("djl", b.djlVersion());
            env.put("pytorch", b.pytorchVersion());
            env.put("arrow", b.arrowVersion());
            env.put("onnxruntime", b.onnxRuntimeVersion());
            return new Provenance("moescope", b.version(), b.gitCommit(), operation, parameters, inputs, started,
                    Instant.now(), env);
        }
    }
}
