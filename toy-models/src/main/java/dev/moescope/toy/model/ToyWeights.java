package dev.moescope.toy.model;

import dev.moescope.core.Seeds;
import dev.moescope.core.error.Require;

import java.util.Random;
import java.util.SplittableRandom;

/**
 * The parameters of many instances of one architecture, stored contiguously per instance so the trainer streams
 * through one instance's weights at a time. Layout (instance-major, then the paper's layout):
 * <ul>
 *   <li>{@code w}: instance × E × n × m — row {@code (e, i)} is feature i's vector in expert e
 *       (the paper's {@code W_experts[e, i, :]}; expert e's TMS matrix is its transpose);</li>
 *   <li>{@code b}: instance × E × n — each expert's output bias;</li>
 *   <li>{@code gate}: instance × E × n — the bias-free router.</li>
 * </ul>
 */
public final class ToyWeights {

    private final Architecture arch;
    private final int instances;
    /** Expert weights, see the class comment for the layout. Mutable: the trainer updates them in place. */
    public final float[] w;
    /** Output biases. */
    public final float[] b;
    /** Router weights. */
    public final float[] gate;

    public ToyWeights(Architecture arch, int instances) {
        this.arch = Require.notNull("architecture", arch);
        this.instances = Require.positive("instances", instances);
        long wSize = (long) instances * arch.weightSize();
        Require.that(wSize < Integer.MAX_VALUE, "instances × E × n × m", "below 2^31", wSize);
        this.w = new float[(int) wSize];
        this.b = new float[instances * arch.biasSize()];
        this.gate = new float[instances * arch.biasSize()];
    }

    /** Fresh weights initialised for each spec, as the MoE paper's code does (Xavier normal everywhere). */
    public static ToyWeights initialise(Architecture arch, InstanceSpec[] specs, BiasInit biasInit) {
        ToyWeights tw = new ToyWeights(arch, specs.length);
        for (int s = 0; s < specs.length; s++) {
            Require.that(specs[s].features() == arch.features(), "instance " + s + " feature count",
                    "equal to n = " + arch.features(), specs[s].features());
            tw.initialiseInstance(s, specs[s], biasInit);
        }
        return tw;
    }

    private void initialiseInstance(int inst, InstanceSpec spec, BiasInit biasInit) {
        int n = arch.features();
        int m = arch.hidden();
        int e = arch.experts();
        Random rnd = new Random(Seeds.derive(spec.seed(), "toy init"));
        // PyTorch xavier_normal_ on (E, n, m): fan_in = n·m, fan_out = E·m.
        double wStd = Math.sqrt(2.0 / (m * (double) (n + e)));
        int wOff = wOffset(inst);
        for (int j = 0; j < arch.weightSize(); j++) {
            w[wOff + j] = (float) (rnd.nextGaussian() * wStd);
        }
        // (E, n) matrices: fan_in = n, fan_out = E.
        double vStd = Math.sqrt(2.0 / (n + (double) e));
        int bOff = bOffset(inst);
        if (biasInit == BiasInit.XAVIER) {
            for (int j = 0; j < arch.biasSize(); j++) {
                b[bOff + j] = (float) (rnd.nextGaussian() * vStd);
            }
        }
        initialiseRouter(inst, spec, vStd, rnd);
    }

    private void initialiseRouter(int inst, InstanceSpec spec, double std, Random rnd) {
        int n = arch.features();
        int experts = arch.experts();
        int off = bOffset(inst);
        switch (spec.routerInit()) {
            case ZERO -> { }
            case XAVIER -> {
                for (int j = 0; j < arch.biasSize(); j++) {
                    gate[off + j] = (float) (rnd.nextGaussian() * std);
                }
            }
            case DIAGONAL -> {
                for (int e = 0; e < Math.min(experts, n); e++) {
                    gate[off + e * n + e] = 1f;
                }
            }
            case ORDERED_K_HOT -> {
                int group = Math.max(1, n / experts);
                for (int e = 0; e < experts; e++) {
                    for (int i = e * group; i < Math.min(n, (e + 1) * group); i++) {
                        gate[off + e * n + i] = 1f;
                    }
                }
            }
            case RANDOM_K_HOT -> {
                SplittableRandom r = Seeds.random(spec.seed(), "toy router k-hot");
                int[] perm = Importance.permutation(n, r);
                for (int j = 0; j < n; j++) {
                    gate[off + (j % experts) * n + perm[j]] = 1f;
                }
            }
            default -> throw new IllegalStateException(spec.routerInit().name());
        }
    }

    public Architecture architecture() {
        return arch;
    }

    public int instances() {
        return instances;
    }

    public int wOffset(int instance) {
        return instance * arch.weightSize();
    }

    public int bOffset(int instance) {
        return instance * arch.biasSize();
    }

    /** Feature i's vector in expert e of an instance (length m, a copy). */
    public float[] featureVector(int instance, int expert, int feature) {
        int m = arch.hidden();
        float[] v = new float[m];
        System.arraycopy(w, wOffset(instance) + (expert * arch.features() + feature) * m, v, 0, m);
        return v;
    }

    /** Expert e's weights of an instance as an n × m matrix (copies). */
    public float[][] expertMatrix(int instance, int expert) {
        float[][] mat = new float[arch.features()][];
        for (int i = 0; i < arch.features(); i++) {
            mat[i] = featureVector(instance, expert, i);
        }
        return mat;
    }

    /** The router of an instance as an E × n matrix (copies). */
    public float[][] routerMatrix(int instance) {
        int n = arch.features();
        float[][] g = new float[arch.experts()][n];
        for (int e = 0; e < arch.experts(); e++) {
            System.arraycopy(gate, bOffset(instance) + e * n, g[e], 0, n);
        }
        return g;
    }

    /** Expert e's output bias of an instance (a copy). */
    public float[] bias(int instance, int expert) {
        int n = arch.features();
        float[] v = new float[n];
        System.arraycopy(b, bOffset(instance) + expert * n, v, 0, n);
        return v;
    }

    /** Copies instance {@code from} of this object into instance {@code to} of {@code dst} (same architecture). */
    public void copyInstance(int from, ToyWeights dst, int to) {
        System.arraycopy(w, wOffset(from), dst.w, dst.wOffset(to), arch.weightSize());
        System.arraycopy(b, bOffset(from), dst.b, dst.bOffset(to), arch.biasSize());
        System.arraycopy(gate, bOffset(from), dst.gate, dst.bOffset(to), arch.biasSize());
    }

    /** A new object holding copies of the chosen instances, in the given order. */
    public ToyWeights select(int[] chosen) {
        ToyWeights out = new ToyWeights(arch, chosen.length);
        for (int t = 0; t < chosen.length; t++) {
            System.arraycopy(w, wOffset(chosen[t]), out.w, out.wOffset(t), arch.weightSize());
            System.arraycopy(b, bOffset(chosen[t]), out.b, out.bOffset(t), arch.biasSize());
            System.arraycopy(gate, bOffset(chosen[t]), out.gate, out.bOffset(t), arch.biasSize());
        }
        return out;
    }
}
