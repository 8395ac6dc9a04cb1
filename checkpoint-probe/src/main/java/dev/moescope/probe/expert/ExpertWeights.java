package dev.moescope.probe.expert;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.Require;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One expert's SwiGLU weights in a single canonical form, whatever the export's layout, and the expert's forward
 * {@code E(x) = W_down · (silu(W_gate · x) ⊙ (W_up · x))}. Experts are read from the initializers on demand and
 * kept in a least-recently-used cache bounded in bytes, so a model whose experts do not fit in memory still runs.
 */
public final class ExpertWeights {

    /**
     * One expert.
     *
     * @param hidden H
     * @param inner  I, the expert's intermediate width
     * @param gate   [I × H] row-major
     * @param up     [I × H] row-major
     * @param down   [H × I] row-major
     */
    public record Expert(int hidden, int inner, float[] gate, float[] up, float[] down) {
        public Expert {
            Require.that(gate.length == (long) inner * hidden && up.length == gate.length
                    && down.length == gate.length, "expert matrices", "I x H, I x H and H x I", gate.length);
        }

        long bytes() {
            return 12L * gate.length;
        }

        /**
         * {@code E(x)} for {@code x[xOff .. xOff+H)} into {@code y[yOff .. yOff+H)}; {@code scratch} holds I
         * floats.
         */
        public void apply(float[] x, int xOff, float[] y, int yOff, float[] scratch) {
            for (int i = 0; i < inner; i++) {
                double g = dot(gate, i * hidden, x, xOff, hidden);
                double u = dot(up, i * hidden, x, xOff, hidden);
                scratch[i] = (float) (g / (1 + Math.exp(-g)) * u);
            }
            for (int o = 0; o < hidden; o++) {
                y[yOff + o] = (float) dot(down, o * inner, scratch, 0, inner);
            }
        }
    }

    /** Σ a[aOff+i]·b[bOff+i], four partial sums (instruction-level parallelism), accumulated in double. */
    static double dot(float[] a, int aOff, float[] b, int bOff, int n) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += a[aOff + i] * b[bOff + i];
            s1 += a[aOff + i + 1] * b[bOff + i + 1];
            s2 += a[aOff + i + 2] * b[bOff + i + 2];
            s3 += a[aOff + i + 3] * b[bOff + i + 3];
        }
        for (; i < n; i++) {
            s0 += a[aOff + i] * b[bOff + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    private record Key(int layer, int expert) {
    }

    private final Initializers init;
    private final ExpertSidecar sidecar;
    private final int hidden;
    private final long budgetBytes;
    private long cachedBytes;
    private long reads;
    private final LinkedHashMap<Key, Expert> cache = new LinkedHashMap<>(16, 0.75f, true);

    /**
     * @param hidden      H, the model's width (the router weight's input width)
     * @param budgetBytes how many bytes of fp32 expert weights to keep between uses (at least one expert is kept)
     */
    public ExpertWeights(Initializers init, ExpertSidecar sidecar, int hidden, long budgetBytes) {
        this.init = init;
        this.sidecar = sidecar;
        this.hidden = Require.positive("hidden size", hidden);
        this.budgetBytes = Require.positive("expert cache bytes", budgetBytes);
    }

    /** Expert {@code expert} of sidecar layer {@code layer}. */
    public Expert expert(int layer, int expert) {
        Key key = new Key(layer, expert);
        Expert e = cache.get(key);
        if (e == null) {
            e = load(layer, expert);
            reads++;
            cache.put(key, e);
            cachedBytes += e.bytes();
            var it = cache.entrySet().iterator();
            while (cachedBytes > budgetBytes && cache.size() > 1) {
                Map.Entry<Key, Expert> eldest = it.next();
                cachedBytes -= eldest.getValue().bytes();
                it.remove();
            }
        }
        return e;
    }

    /** How many times an expert was read from the initializers (a cache miss). */
    public long reads() {
        return reads;
    }

    private Expert load(int layer, int expert) {
        ExpertSidecar.LayerWeights w = sidecar.layers().get(layer);
        if (w == null) {
            throw MoescopeException.badInput(sidecar.file(), "names no weights for MoE layer " + layer);
        }
        int experts = sidecar.gating().numExperts();
        if (expert < 0 || expert >= experts) {
            throw new IllegalArgumentException("expert " + expert + " of " + experts);
        }
        return switch (w.layout()) {
            case LINEAR_PER_EXPERT -> linear(w, expert);
            case FUSED_GATE_UP -> fused(w, expert, experts);
        };
    }

    private Expert linear(ExpertSidecar.LayerWeights w, int e) {
        String g = w.gate().get(e);
        String u = w.up().get(e);
        String d = w.down().get(e);
        long[] gd = init.dims(g);
        if (gd.length != 2 || gd[1] != hidden) {
            throw badShape(g, gd, "[I, " + hidden + "] (torch Linear [out, in])");
        }
        int inner = (int) gd[0];
        checkDims(u, init.dims(u), inner, hidden, "[" + inner + ", " + hidden + "]");
        checkDims(d, init.dims(d), hidden, inner, "[" + hidden + ", " + inner + "]");
        int n = inner * hidden;
        return new Expert(hidden, inner, init.read(g, 0, n), init.read(u, 0, n), init.read(d, 0, n));
    }

    /**
     * gate_up [E, 2I, H] (gate rows first) or [E, H, 2I] (gate columns first); down [E, H, I] or [E, I, H]. A shape
     * that fits both (2I = H, or I = H) is read in the F.linear form ([E, 2I, H], [E, H, I]), the rule the exporter's
     * forward applies ({@code moescope_export/families.py}), so the probe computes what the graph computes.
     */
    private Expert fused(ExpertSidecar.LayerWeights w, int e, int experts) {
        String gu = w.gateUp();
        String dn = w.down().get(0);
        long[] gd = init.dims(gu);
        long[] dd = init.dims(dn);
        if (gd.length != 3 || gd[0] != experts) {
            throw badShape(gu, gd, "[" + experts + ", 2I, " + hidden + "] or [" + experts + ", " + hidden + ", 2I]");
        }
        boolean rows = gd[2] == hidden && gd[1] % 2 == 0; // F.linear layout, as the sidecar's layout string says
        boolean cols = !rows && gd[1] == hidden && gd[2] % 2 == 0;
        if (!rows && !cols) {
            throw badShape(gu, gd, "[" + experts + ", 2I, " + hidden + "] or [" + experts + ", " + hidden + ", 2I]");
        }
        int inner = (int) ((rows ? gd[1] : gd[2]) / 2);
        int n = inner * hidden;
        float[] both = init.read(gu, (long) e * 2 * n, 2 * n);
        float[] gate = new float[n];
        float[] up = new float[n];
        if (rows) {
            System.arraycopy(both, 0, gate, 0, n);
            System.arraycopy(both, n, up, 0, n);
        } else { // [H, 2I]: x @ gu, gate columns 0..I-1, up columns I..2I-1
            for (int h = 0; h < hidden; h++) {
                for (int i = 0; i < inner; i++) {
                    gate[i * hidden + h] = both[h * 2 * inner + i];
                    up[i * hidden + h] = both[h * 2 * inner + inner + i];
                }
            }
        }
        if (dd.length != 3 || dd[0] != experts) {
            throw badShape(dn, dd, "[" + experts + ", " + hidden + ", " + inner + "] or [" + experts + ", " + inner
                    + ", " + hidden + "]");
        }
        float[] raw = init.read(dn, (long) e * n, n);
        float[] down;
        if (dd[1] == hidden && dd[2] == inner) {
            down = raw;
        } else if (dd[1] == inner && dd[2] == hidden) { // y @ down: transpose to [H, I]
            down = new float[n];
            for (int i = 0; i < inner; i++) {
                for (int h = 0; h < hidden; h++) {
                    down[h * inner + i] = raw[i * hidden + h];
                }
            }
        } else {
            throw badShape(dn, dd, "[" + experts + ", " + hidden + ", " + inner + "] or [" + experts + ", " + inner
                    + ", " + hidden + "]");
        }
        return new Expert(hidden, inner, gate, up, down);
    }

    private void checkDims(String name, long[] d, int rows, int cols, String want) {
        if (d.length != 2 || d[0] != rows || d[1] != cols) {
            throw badShape(name, d, want);
        }
    }

    private MoescopeException badShape(String name, long[] dims, String want) {
        return MoescopeException.badInput(sidecar.file(), "expert weight '" + name + "' has shape "
                + java.util.Arrays.toString(dims) + ", expected " + want);
    }
}
