package dev.moescope.probe.run;

import java.util.Arrays;

/**
 * A model output copied to the Java heap: floating types (fp32, fp16, bf16, fp64) as {@code float[]}, integer and
 * bool types as {@code long[]}. Reductions on it run in Java at fp32/fp64 whatever the model's precision.
 *
 * @param name        output name
 * @param shape       dimensions
 * @param sourceType  the ONNX element type it had in the model ({@code "float16"} ...)
 * @param floats      values of a floating output, else null
 * @param longs       values of an integer/bool output, else null
 */
public record HostTensor(String name, long[] shape, String sourceType, float[] floats, long[] longs) {

    public long size() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public boolean isFloating() {
        return floats != null;
    }

    /** Size of the last dimension (the feature/expert/vocab width). */
    public int width() {
        return shape.length == 0 ? 1 : (int) shape[shape.length - 1];
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + " " + sourceType;
    }
}
