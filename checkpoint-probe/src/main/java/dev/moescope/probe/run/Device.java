package dev.moescope.probe.run;

import dev.moescope.core.error.MoescopeException;

import java.util.Locale;

/**
 * Where ONNX Runtime runs: {@code cpu}, {@code cuda} / {@code cuda:N}, or {@code auto} (CUDA if its provider loads,
 * else CPU, saying so).
 *
 * @param kind     the requested kind
 * @param deviceId the CUDA device number (0 unless {@code cuda:N})
 */
public record Device(Kind kind, int deviceId) {

    /** Device kinds. */
    public enum Kind { CPU, CUDA, AUTO }

    public static final Device CPU = new Device(Kind.CPU, 0);

    /** Parses {@code --device}. */
    public static Device parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        switch (t) {
            case "cpu":
                return CPU;
            case "auto":
                return new Device(Kind.AUTO, 0);
            case "cuda":
                return new Device(Kind.CUDA, 0);
            default:
                if (t.startsWith("cuda:")) {
                    try {
                        int id = Integer.parseInt(t.substring(5));
                        if (id >= 0) {
                            return new Device(Kind.CUDA, id);
                        }
                    } catch (NumberFormatException e) {
                        // fall through to the usage error
                    }
                }
                throw MoescopeException.usage("--device must be cpu, cuda, cuda:N or auto, got '" + text + "'");
        }
    }

    @Override
    public String toString() {
        return kind == Kind.CUDA ? "cuda:" + deviceId : kind.name().toLowerCase(Locale.ROOT);
    }
}
