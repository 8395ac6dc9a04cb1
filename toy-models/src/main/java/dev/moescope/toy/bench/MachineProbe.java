package dev.moescope.toy.bench;

/**
 * Measures what this JVM on this machine can do, for the roofline estimate: the float multiply-add rate of a
 * cache-resident loop like the kernel's inner loops, and the main-memory copy bandwidth. Single thread each.
 */
public final class MachineProbe {

    private MachineProbe() {
    }

    /** Sustained FLOP/s of a cache-resident float axpy (2 FLOPs per element) that the JIT vectorises. */
    public static double axpyFlops() {
        float[] x = new float[1024];
        float[] y = new float[1024];
        for (int i = 0; i < x.length; i++) {
            x[i] = i * 1e-6f;
        }
        float a = 1.0000001f;
        for (int warm = 0; warm < 20_000; warm++) {
            axpy(a, x, y);
        }
        int reps = 200_000;
        long t0 = System.nanoTime();
        for (int r = 0; r < reps; r++) {
            axpy(a, x, y);
        }
        double s = (System.nanoTime() - t0) / 1e9;
        if (y[7] == 42f) {
            System.out.print(""); // keep y alive
        }
        return 2.0 * x.length * reps / s;
    }

    private static void axpy(float a, float[] x, float[] y) {
        for (int i = 0; i < x.length; i++) {
            y[i] += a * x[i];
        }
    }

    /** Main-memory bandwidth of a 128 MiB array copy (bytes read + written per second). */
    public static double copyBandwidth() {
        float[] src = new float[32 << 20];
        float[] dst = new float[src.length];
        System.arraycopy(src, 0, dst, 0, src.length);
        int reps = 5;
        long t0 = System.nanoTime();
        for (int r = 0; r < reps; r++) {
            System.arraycopy(src, 0, dst, 0, src.length);
        }
        double s = (System.nanoTime() - t0) / 1e9;
        return 2.0 * 4 * src.length * reps / s;
    }
}
