package dev.moescope.toy.train;

import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.LossReduction;
import dev.moescope.toy.model.RouterGradient;
import dev.moescope.toy.model.ToyWeights;

/**
 * One instance's loss, gradients and AdamW update over one batch, written out by hand.
 *
 * <p>Forward, for an input x ∈ ℝⁿ (the MoE paper's {@code MoEModel}):
 * <pre>
 *   s = G x;  p = softmax(s);  S = top-k(p) (ties: lowest index);  g̃_e = p_e / Σ_{f∈S} p_f  (e ∈ S)
 *   h_e = W_eᵀ x;  z_e = W_e h_e + b_e;  x' = Σ_{e∈S} g̃_e ReLU(z_e)
 *   L = c · Σ_batch Σ_i I_i (x'_i − x_i)²  +  α·E·Σ_e f_e P_e
 * </pre>
 * with c = 1/B (sum over features) or 1/(B·n) (mean), f_e the fraction of the batch routed to e (no gradient) and
 * P_e the batch mean of p_e. Only selected experts are computed: unselected ones have weight exactly 0 in the
 * output and receive exactly zero gradient, as in the reference's dense-then-masked computation.
 *
 * <p>Backward: with a_e = ∂L/∂g̃_e, the renormalisation gives ∂L/∂p_f = (a_f − Σ_{e∈S} g̃_e a_e)/Σ_S p for f ∈ S.
 * With k = 1, g̃ = p/p = 1 exactly, so this is a − a = 0 exactly: the reconstruction loss gives the router no
 * gradient (the paper's frozen-router behaviour), and only the load-balancing term and weight decay move it.
 * Inputs are sparse, so products with x run over the non-zero features only.
 */
public final class ToyKernel {

    /** Top-1 shapes with at most this many expert weights use the batch-major path. */
    static final int BATCH_MAJOR_MAX_WEIGHTS = 64;
    /** From this hidden width on, ∂L/∂h is summed along W's rows (vectorised over m) rather than as m dot products. */
    static final int WIDE_HIDDEN = 8;

    private final Architecture arch;
    /** Top-1 router gets PyTorch's float32 residue a/p − a·(1/p) instead of the exact 0. */
    private final boolean torchResidue;
    /** Tiny top-1 models: vectorise across the batch instead of looping over samples (see {@link #batchMajorStep}). */
    private final boolean batchMajor;
    private float[] xT;
    private float[] bmP;
    private float[] bmH;
    private float[] bmZ;
    private float[] bmGx;
    private float[] bmDz;
    private float[] bmDh;
    private float[] bmMask;
    private float[] bmXr;
    private final int n;
    private final int m;
    private final int experts;
    private final int k;
    private final int maxBatch;

    // batch, in dense and sparse (CSR) form
    final float[] x;
    final int[] nzStart;
    final int[] nzIndex;
    final float[] nzValue;
    // routing for the batch
    private final float[] prob;
    private final int[] selected;
    private final float[] routeWeight;
    private final float[] dispatched;
    private final float[] meanProb;
    // per-sample scratch
    private final float[] h;
    private final float[] wT;
    private final float[] z;
    private final float[] xr;
    private final float[] gx;
    private final float[] dh;
    private final float[] a;
    private final float[] dp;
    private final float[] ds;
    private final float[] scores;
    private final float[] dz;
    // feature-major copies, so that the per-sample loops run along contiguous rows and vectorise
    /** Router transposed, [feature][expert]: a sample's scores are one axpy over the experts per non-zero input. */
    private final float[] gateT;
    /**
     * ∂L/∂W accumulated as [expert][hidden][feature] (the layout of {@link #wT}) and added into {@link #gW} at the
     * end of the batch; wide layers accumulate the input's share x ⊗ ∂L/∂h in {@link #gW} directly.
     */
    private final float[] gWT;
    /** ∂L/∂gate accumulated as [feature][expert]; transposed into {@link #gG}. */
    private final float[] gGT;
    /** Wide hidden layers (the dense m=20) compute h and ∂L/∂h along W's rows, vectorised over m. */
    private final boolean wideHidden;
    // gradients of the current instance
    final float[] gW;
    final float[] gB;
    final float[] gG;
    // AdamW moments of the current instance
    private final float[] mW;
    private final float[] vW;
    private final float[] mB;
    private final float[] vB;
    private final float[] mG;
    private final float[] vG;
    private ToyWeights local;

    /** Workspace for batches of up to {@code maxBatch} samples. One kernel per thread. */
    public ToyKernel(Architecture arch, int maxBatch) {
        this(arch, maxBatch, true);
    }

    /**
     * As {@link #ToyKernel(Architecture, int)}; {@code allowBatchMajor = false} forces the per-sample path even for
     * the tiny top-1 shapes that would use the batch-major one (tests compare the two).
     */
    public ToyKernel(Architecture arch, int maxBatch, boolean allowBatchMajor) {
        this(arch, maxBatch, allowBatchMajor, RouterGradient.EXACT);
    }

    /**
     * As {@link #ToyKernel(Architecture, int, boolean)}, with the top-1 router gradient {@code routerGradient}:
     * exactly zero, or PyTorch's float32 residue of the renormalisation (see {@link RouterGradient}).
     */
    public ToyKernel(Architecture arch, int maxBatch, boolean allowBatchMajor, RouterGradient routerGradient) {
        this.arch = arch;
        this.torchResidue = routerGradient == RouterGradient.PYTORCH_FLOAT32 && arch.active() == 1
                && arch.experts() > 1;
        this.batchMajor = allowBatchMajor && arch.active() == 1
                && (long) arch.experts() * arch.features() * arch.hidden() <= BATCH_MAJOR_MAX_WEIGHTS;
        this.n = arch.features();
        this.m = arch.hidden();
        this.experts = arch.experts();
        this.k = arch.active();
        this.maxBatch = maxBatch;
        x = new float[maxBatch * n];
        nzStart = new int[maxBatch + 1];
        nzIndex = new int[maxBatch * n];
        nzValue = new float[maxBatch * n];
        prob = new float[maxBatch * experts];
        selected = new int[maxBatch * k];
        routeWeight = new float[maxBatch * k];
        dispatched = new float[experts];
        meanProb = new float[experts];
        h = new float[k * m];
        wT = new float[arch.weightSize()];
        z = new float[k * n];
        xr = new float[n];
        gx = new float[n];
        dh = new float[m];
        a = new float[k];
        dp = new float[experts];
        ds = new float[experts];
        scores = new float[experts];
        dz = new float[n];
        gateT = new float[arch.biasSize()];
        gWT = new float[arch.weightSize()];
        gGT = new float[arch.biasSize()];
        wideHidden = m >= WIDE_HIDDEN;
        gW = new float[arch.weightSize()];
        gB = new float[arch.biasSize()];
        gG = new float[arch.biasSize()];
        mW = new float[gW.length];
        vW = new float[gW.length];
        mB = new float[gB.length];
        vB = new float[gB.length];
        mG = new float[gG.length];
        vG = new float[gG.length];
        if (batchMajor) {
            xT = new float[n * maxBatch];
            bmP = new float[experts * maxBatch];
            bmH = new float[experts * m * maxBatch];
            bmZ = new float[experts * n * maxBatch];
            bmGx = new float[n * maxBatch];
            bmDz = new float[n * maxBatch];
            bmDh = new float[m * maxBatch];
            bmMask = new float[experts * maxBatch];
            bmXr = new float[n * maxBatch];
        }
    }

    /** Whether this kernel trains with the batch-major path. */
    public boolean isBatchMajor() {
        return batchMajor;
    }

    public Architecture architecture() {
        return arch;
    }

    /** A one-instance weight buffer owned by this kernel (its thread): the trainer trains a copy here. */
    ToyWeights localWeights() {
        if (local == null) {
            local = new ToyWeights(arch, 1);
        }
        return local;
    }

    /** Draws a batch: feature i is U[0,1) with probability density[i], else 0. */
    void sample(InstanceRandom rnd, float[] density, int batch) {
        if (batchMajor) { // same draws in the same order, stored feature-major
            int stride = maxBatch;
            for (int s = 0; s < batch; s++) {
                for (int i = 0; i < n; i++) {
                    long bits = rnd.nextLong();
                    float u = (bits >>> 40) * 0x1.0p-24f;
                    xT[i * stride + s] = u < density[i] ? ((bits >>> 16) & 0xFFFFFF) * 0x1.0p-24f : 0f;
                }
            }
            return;
        }
        int nz = 0;
        for (int s = 0; s < batch; s++) {
            nzStart[s] = nz;
            int row = s * n;
            for (int i = 0; i < n; i++) {
                // one 64-bit draw gives two independent 24-bit uniforms: the Bernoulli and the value
                long bits = rnd.nextLong();
                float u = (bits >>> 40) * 0x1.0p-24f;
                float v = u < density[i] ? ((bits >>> 16) & 0xFFFFFF) * 0x1.0p-24f : 0f;
                x[row + i] = v;
                nzIndex[nz] = i;
                nzValue[nz] = v;
                nz += v != 0f ? 1 : 0; // branch-free: the Bernoulli is unpredictable
            }
        }
        nzStart[batch] = nz;
    }

    /** Loads an explicit batch (rows of length n), e.g. for tests and analyses. */
    public void load(float[][] batch) {
        if (batch.length > maxBatch) {
            throw new IllegalArgumentException("batch of " + batch.length + " exceeds workspace " + maxBatch);
        }
        int nz = 0;
        for (int s = 0; s < batch.length; s++) {
            nzStart[s] = nz;
            for (int i = 0; i < n; i++) {
                float v = batch[s][i];
                x[s * n + i] = v;
                if (v != 0f) {
                    nzIndex[nz] = i;
                    nzValue[nz++] = v;
                }
            }
        }
        nzStart[batch.length] = nz;
        if (batchMajor) {
            for (int s = 0; s < batch.length; s++) {
                for (int i = 0; i < n; i++) {
                    xT[i * maxBatch + s] = batch[s][i];
                }
            }
        }
    }

    /**
     * Routes the loaded batch through an instance's router: fills the softmax probabilities, the top-k experts
     * (ties to the lowest index) and their renormalised weights, and the batch statistics of the LB loss.
     */
    void route(float[] gate, int gOff, int batch) {
        java.util.Arrays.fill(dispatched, 0f);
        java.util.Arrays.fill(meanProb, 0f);
        if (experts == 1) {
            for (int s = 0; s < batch; s++) {
                prob[s] = 1f;
                selected[s] = 0;
                routeWeight[s] = 1f;
            }
            dispatched[0] = 1f;
            meanProb[0] = 1f;
            return;
        }
        float invB = 1f / batch;
        for (int e = 0; e < experts; e++) {
            for (int i = 0; i < n; i++) {
                gateT[i * experts + e] = gate[gOff + e * n + i];
            }
        }
        for (int s = 0; s < batch; s++) {
            java.util.Arrays.fill(scores, 0f);
            for (int t = nzStart[s]; t < nzStart[s + 1]; t++) {
                int go = nzIndex[t] * experts;
                float v = nzValue[t];
                for (int e = 0; e < experts; e++) {
                    scores[e] += gateT[go + e] * v;
                }
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int e = 0; e < experts; e++) {
                max = Math.max(max, scores[e]);
            }
            float sum = 0f;
            int po = s * experts;
            for (int e = 0; e < experts; e++) {
                float ex = expNonPositive(scores[e] - max);
                prob[po + e] = ex;
                sum += ex;
            }
            for (int e = 0; e < experts; e++) {
                prob[po + e] /= sum;
                meanProb[e] += prob[po + e] * invB;
            }
            if (k == 1) { // argmax, ties to the lowest index
                int best = 0;
                for (int e = 1; e < experts; e++) {
                    if (prob[po + e] > prob[po + best]) {
                        best = e;
                    }
                }
                selected[s] = best;
                routeWeight[s] = prob[po + best] / prob[po + best]; // exactly 1, as the reference computes it
                dispatched[best] += invB;
                continue;
            }
            // top-k by insertion into a list sorted by falling p; an equal p never overtakes, so ties go to the
            // lowest index (the order of a stable sort, and of the repeated argmax this replaces)
            int so = s * k;
            int count = 0;
            for (int e = 0; e < experts; e++) {
                float pe = prob[po + e];
                if (count == k && !(pe > prob[po + selected[so + k - 1]])) {
                    continue;
                }
                int pos = Math.min(count, k - 1);
                while (pos > 0 && pe > prob[po + selected[so + pos - 1]]) {
                    selected[so + pos] = selected[so + pos - 1];
                    pos--;
                }
                selected[so + pos] = e;
                count = Math.min(count + 1, k);
            }
            float picked = 0f;
            for (int r = 0; r < k; r++) {
                picked += prob[po + selected[so + r]];
                dispatched[selected[so + r]] += invB;
            }
            for (int r = 0; r < k; r++) {
                routeWeight[so + r] = prob[po + selected[so + r]] / picked;
            }
        }
    }

    /**
     * The same loss and gradients as the per-sample path, for top-1 models with few weights (the phase-diagram
     * shapes): every expert is computed for every sample and masked, as the reference does, with the batch as the
     * innermost, vectorised dimension (feature-major arrays {@code [feature][sample]}). Top-1 makes the gate
     * weight exactly 1, so the router's only gradient is the load-balancing term.
     */
    private double batchMajorStep(ToyWeights weights, int instance, float[] importance, int batch,
                                  LossReduction reduction, double lbAlpha, boolean withGradients, double[] parts) {
        final int B = batch;
        final int st = maxBatch;
        float[] w = weights.w;
        float[] bias = weights.b;
        float[] gate = weights.gate;
        int wOff = weights.wOffset(instance);
        int bOff = weights.bOffset(instance);
        float invB = 1f / B;
        // routing: scores, softmax, argmax (ties to the lowest index)
        java.util.Arrays.fill(dispatched, 0f);
        java.util.Arrays.fill(meanProb, 0f);
        if (experts == 1) {
            java.util.Arrays.fill(bmMask, 0, B, 1f);
            java.util.Arrays.fill(bmP, 0, B, 1f);
            dispatched[0] = 1f;
            meanProb[0] = 1f;
        } else {
            for (int e = 0; e < experts; e++) {
                int po = e * st;
                java.util.Arrays.fill(bmP, po, po + B, 0f);
                for (int i = 0; i < n; i++) {
                    float g = gate[bOff + e * n + i];
                    int xo = i * st;
                    for (int s = 0; s < B; s++) {
                        bmP[po + s] += g * xT[xo + s];
                    }
                }
            }
            for (int s = 0; s < B; s++) {
                float max = bmP[s];
                int best = 0;
                for (int e = 1; e < experts; e++) {
                    float v = bmP[e * st + s];
                    if (v > max) {
                        max = v;
                        best = e;
                    }
                }
                float sum = 0f;
                for (int e = 0; e < experts; e++) {
                    float ex = expNonPositive(bmP[e * st + s] - max);
                    bmP[e * st + s] = ex;
                    sum += ex;
                }
                // argmax of p: recomputed after rounding so that equal probabilities tie exactly as in the reference
                float bestP = -1f;
                for (int e = 0; e < experts; e++) {
                    float pe = bmP[e * st + s] / sum;
                    bmP[e * st + s] = pe;
                    meanProb[e] += pe * invB;
                    if (pe > bestP) {
                        bestP = pe;
                        best = e;
                    }
                    bmMask[e * st + s] = 0f;
                }
                bmMask[best * st + s] = 1f;
                dispatched[best] += invB;
            }
        }
        double lb = 0;
        if (lbAlpha > 0) {
            for (int e = 0; e < experts; e++) {
                lb += dispatched[e] * (double) meanProb[e];
            }
            lb *= lbAlpha * experts;
        }
        // experts, all of them, then the masked sum
        for (int e = 0; e < experts; e++) {
            for (int j = 0; j < m; j++) {
                int ho = (e * m + j) * st;
                java.util.Arrays.fill(bmH, ho, ho + B, 0f);
                for (int i = 0; i < n; i++) {
                    float wij = w[wOff + (e * n + i) * m + j];
                    int xo = i * st;
                    for (int s = 0; s < B; s++) {
                        bmH[ho + s] += wij * xT[xo + s];
                    }
                }
            }
            for (int i = 0; i < n; i++) {
                int zo = (e * n + i) * st;
                java.util.Arrays.fill(bmZ, zo, zo + B, bias[bOff + e * n + i]);
                for (int j = 0; j < m; j++) {
                    float wij = w[wOff + (e * n + i) * m + j];
                    int ho = (e * m + j) * st;
                    for (int s = 0; s < B; s++) {
                        bmZ[zo + s] += wij * bmH[ho + s];
                    }
                }
            }
        }
        float c = (float) ((reduction == LossReduction.MEAN_FEATURES ? 1.0 / n : 1.0) / B);
        double recon = 0;
        for (int i = 0; i < n; i++) {
            int xo = i * st;
            java.util.Arrays.fill(bmXr, xo, xo + B, 0f);
            for (int e = 0; e < experts; e++) {
                int zo = (e * n + i) * st;
                int mo = e * st;
                for (int s = 0; s < B; s++) {
                    bmXr[xo + s] += bmMask[mo + s] * Math.max(bmZ[zo + s], 0f);
                }
            }
            float imp = importance[i];
            float twoCI = 2f * c * imp;
            float a0 = 0f;
            float a1 = 0f;
            float a2 = 0f;
            float a3 = 0f;
            int s = 0;
            for (; s + 3 < B; s += 4) {
                float d0 = bmXr[xo + s] - xT[xo + s];
                float d1 = bmXr[xo + s + 1] - xT[xo + s + 1];
                float d2 = bmXr[xo + s + 2] - xT[xo + s + 2];
                float d3 = bmXr[xo + s + 3] - xT[xo + s + 3];
                a0 += d0 * d0;
                a1 += d1 * d1;
                a2 += d2 * d2;
                a3 += d3 * d3;
            }
            for (; s < B; s++) {
                float d = bmXr[xo + s] - xT[xo + s];
                a0 += d * d;
            }
            recon += (double) imp * ((a0 + a1) + (a2 + a3));
            if (withGradients) {
                for (int t = 0; t < B; t++) {
                    bmGx[xo + t] = twoCI * (bmXr[xo + t] - xT[xo + t]);
                }
            }
        }
        recon *= c;
        if (parts != null) {
            parts[0] = recon;
            parts[1] = lb;
        }
        if (!withGradients) {
            return recon + lb;
        }
        java.util.Arrays.fill(gW, 0f);
        java.util.Arrays.fill(gB, 0f);
        java.util.Arrays.fill(gG, 0f);
        for (int e = 0; e < experts; e++) {
            int mo = e * st;
            // dz = mask · gx · [z > 0]
            for (int i = 0; i < n; i++) {
                int zo = (e * n + i) * st;
                int xo = i * st;
                for (int s = 0; s < B; s++) {
                    bmDz[xo + s] = bmZ[zo + s] > 0f ? bmMask[mo + s] * bmGx[xo + s] : 0f;
                }
                gB[e * n + i] = sum(bmDz, xo, B);
            }
            for (int j = 0; j < m; j++) {
                int dho = j * st;
                java.util.Arrays.fill(bmDh, dho, dho + B, 0f);
                for (int i = 0; i < n; i++) {
                    float wij = w[wOff + (e * n + i) * m + j];
                    int xo = i * st;
                    for (int s = 0; s < B; s++) {
                        bmDh[dho + s] += wij * bmDz[xo + s];
                    }
                }
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) {
                    gW[(e * n + i) * m + j] = dot(bmDz, i * st, bmH, (e * m + j) * st, B)
                            + dot(xT, i * st, bmDh, j * st, B);
                }
            }
        }
        if (experts > 1 && (lbAlpha > 0 || torchResidue)) {
            // ∂LB/∂p_{s,e} = α·E·f_e/B (plus, emulating PyTorch, the top-1 residue on the selected expert);
            // softmax backward: ds_e = p_e (dp_e − Σ_f p_f dp_f)
            float lbGrad = (float) (lbAlpha * experts / B);
            for (int s = 0; s < B; s++) {
                int top = 0;
                float residue = 0f;
                if (torchResidue) {
                    while (bmMask[top * st + s] == 0f) {
                        top++;
                    }
                    float a0 = 0f; // ∂L/∂g̃_top = Σ_i ∂L/∂x'_i · ReLU(z_top,i)
                    for (int i = 0; i < n; i++) {
                        a0 += bmGx[i * st + s] * Math.max(bmZ[(top * n + i) * st + s], 0f);
                    }
                    residue = torchTopOneResidue(a0, bmP[top * st + s]);
                }
                float dot = 0f;
                for (int e = 0; e < experts; e++) {
                    float dpe = lbGrad * dispatched[e] + (e == top ? residue : 0f);
                    dot += bmP[e * st + s] * dpe;
                }
                for (int e = 0; e < experts; e++) {
                    float pe = bmP[e * st + s];
                    float dpe = lbGrad * dispatched[e] + (e == top ? residue : 0f);
                    bmMask[e * st + s] = pe * (dpe - dot); // reuse: ds
                }
            }
            for (int e = 0; e < experts; e++) {
                for (int i = 0; i < n; i++) {
                    gG[e * n + i] = dot(bmMask, e * st, xT, i * st, B);
                }
            }
        }
        return recon + lb;
    }

    /**
     * e^x for x ≤ 0 in float32 to about 2 ulp (Math.exp goes through double and costs several times more; the
     * softmax of the router needs E of these per sample). Cody–Waite reduction x = k·ln2 + r, |r| ≤ ln2/2,
     * degree-6 Taylor polynomial for e^r, then scaling by 2^k through the exponent bits.
     */
    static float expNonPositive(float x) {
        if (x < -87.3f) {
            return 0f;
        }
        float k = (float) Math.floor(x * 1.44269504f + 0.5f);
        float r = x - k * 0.693145752f; // ln2 split in two for an exact first product
        r = r - k * 1.42860677e-06f;
        float p = 1f + r * (1f + r * (0.5f + r * (0.166666672f + r * (0.0416666679f + r * (0.00833333377f
                + r * 0.00138888892f)))));
        return p * Float.intBitsToFloat(((int) k + 127) << 23);
    }

    /** Σ a[ao..ao+len) with four accumulators (breaks the add latency chain). */
    private static float sum(float[] a, int ao, int len) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        int t = 0;
        for (; t + 3 < len; t += 4) {
            s0 += a[ao + t];
            s1 += a[ao + t + 1];
            s2 += a[ao + t + 2];
            s3 += a[ao + t + 3];
        }
        for (; t < len; t++) {
            s0 += a[ao + t];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** a·b over len elements with four accumulators. */
    private static float dot(float[] a, int ao, float[] b, int bo, int len) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        int t = 0;
        for (; t + 3 < len; t += 4) {
            s0 += a[ao + t] * b[bo + t];
            s1 += a[ao + t + 1] * b[bo + t + 1];
            s2 += a[ao + t + 2] * b[bo + t + 2];
            s3 += a[ao + t + 3] * b[bo + t + 3];
        }
        for (; t < len; t++) {
            s0 += a[ao + t] * b[bo + t];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** Σ_t w[off + nzIndex[t]·m] · nzValue[t] over the non-zeros t ∈ [nz0, nz1), with two accumulators. */
    private float sparseDot(float[] w, int off, int nz0, int nz1) {
        float s0 = 0f;
        float s1 = 0f;
        int t = nz0;
        for (; t + 1 < nz1; t += 2) {
            s0 += w[off + nzIndex[t] * m] * nzValue[t];
            s1 += w[off + nzIndex[t + 1] * m] * nzValue[t + 1];
        }
        if (t < nz1) {
            s0 += w[off + nzIndex[t] * m] * nzValue[t];
        }
        return s0 + s1;
    }

    /** wT[e][j][i] = W[e][i][j] for the current instance (E·n·m floats, once per batch). */
    private void transpose(float[] w, int wOff) {
        for (int e = 0; e < experts; e++) {
            int src = wOff + e * n * m;
            int dst = e * n * m;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) {
                    wT[dst + j * n + i] = w[src + i * m + j];
                }
            }
        }
    }

    /** Expert chosen in slot r (0 = highest probability) for sample s after {@link #route}. */
    int selectedExpert(int s, int r) {
        return selected[s * k + r];
    }

    /** Renormalised gate weight of slot r for sample s after {@link #route}. */
    float selectedWeight(int s, int r) {
        return routeWeight[s * k + r];
    }

    /**
     * Loss of the loaded batch for one instance; with {@code withGradients}, also fills {@link #gW}, {@link #gB},
     * {@link #gG}. {@code parts} receives [reconstruction, load-balancing].
     */
    double lossAndGradients(ToyWeights weights, int instance, float[] importance, int batch,
                            LossReduction reduction, double lbAlpha, boolean withGradients, double[] parts) {
        if (batchMajor) {
            return batchMajorStep(weights, instance, importance, batch, reduction, lbAlpha, withGradients, parts);
        }
        float[] w = weights.w;
        float[] bias = weights.b;
        float[] gate = weights.gate;
        int wOff = weights.wOffset(instance);
        int bOff = weights.bOffset(instance);
        route(gate, bOff, batch);
        transpose(w, wOff);
        if (withGradients) {
            java.util.Arrays.fill(gW, 0f);
            java.util.Arrays.fill(gWT, 0f);
            java.util.Arrays.fill(gB, 0f);
            java.util.Arrays.fill(gGT, 0f);
        }
        float c = (float) ((reduction == LossReduction.MEAN_FEATURES ? 1.0 / n : 1.0) / batch);
        double lb = 0;
        if (lbAlpha > 0) {
            for (int e = 0; e < experts; e++) {
                lb += dispatched[e] * (double) meanProb[e];
            }
            lb *= lbAlpha * experts;
        }
        float lbGrad = (float) (lbAlpha * experts / batch); // ∂LB/∂p_{s,e} = α·E·f_e / B
        double recon = 0;
        for (int s = 0; s < batch; s++) {
            int row = s * n;
            int nz0 = nzStart[s];
            int nz1 = nzStart[s + 1];
            for (int i = 0; i < n; i++) {
                xr[i] = 0f;
            }
            for (int r = 0; r < k; r++) {
                int wo = wOff + selected[s * k + r] * n * m;
                int bo = bOff + selected[s * k + r] * n;
                int ho = r * m;
                if (wideHidden) {
                    for (int j = 0; j < m; j++) {
                        h[ho + j] = 0f;
                    }
                    for (int t = nz0; t < nz1; t++) {
                        int fo = wo + nzIndex[t] * m;
                        float v = nzValue[t];
                        for (int j = 0; j < m; j++) {
                            h[ho + j] += w[fo + j] * v;
                        }
                    }
                } else { // narrow: one sparse dot per hidden unit, in registers (h[j] += … would chain through memory)
                    for (int j = 0; j < m; j++) {
                        h[ho + j] = sparseDot(w, wo + j, nz0, nz1);
                    }
                }
                float gt = routeWeight[s * k + r];
                int zo = r * n;
                // z = W h + b as m axpys over the transposed copy: vectorises over n (a dot per row would not)
                for (int i = 0; i < n; i++) {
                    z[zo + i] = bias[bo + i];
                }
                int to = selected[s * k + r] * n * m;
                for (int j = 0; j < m; j++) {
                    float hj = h[ho + j];
                    int tj = to + j * n;
                    for (int i = 0; i < n; i++) {
                        z[zo + i] += wT[tj + i] * hj;
                    }
                }
                for (int i = 0; i < n; i++) {
                    xr[i] += gt * Math.max(z[zo + i], 0f);
                }
            }
            float sampleLoss = 0f;
            for (int i = 0; i < n; i++) {
                float d = xr[i] - x[row + i];
                float id = importance[i] * d;
                sampleLoss += id * d;
                gx[i] = 2f * c * id;
            }
            recon += sampleLoss;
            if (!withGradients) {
                continue;
            }
            for (int r = 0; r < k; r++) {
                int e = selected[s * k + r];
                int wo = wOff + e * n * m;
                int to = e * n * m; // offset in wT and gWT
                int gbo = e * n;
                int ho = r * m;
                int zo = r * n;
                float gt = routeWeight[s * k + r];
                // every loop below runs along the n outputs (or the m hidden units): branch-free, vectorisable
                for (int i = 0; i < n; i++) {
                    dz[i] = z[zo + i] > 0f ? gt * gx[i] : 0f;
                }
                for (int i = 0; i < n; i++) {
                    gB[gbo + i] += dz[i];
                }
                if (experts > 1) { // ∂L/∂g̃ of this slot, for the router
                    float ar = 0f;
                    for (int i = 0; i < n; i++) {
                        ar += gx[i] * Math.max(z[zo + i], 0f);
                    }
                    a[r] = ar;
                }
                for (int j = 0; j < m; j++) {
                    float hj = h[ho + j];
                    int tj = to + j * n;
                    for (int i = 0; i < n; i++) {
                        gWT[tj + i] += dz[i] * hj;
                    }
                }
                if (wideHidden) {
                    for (int j = 0; j < m; j++) {
                        dh[j] = 0f;
                    }
                    for (int i = 0; i < n; i++) {
                        float d = dz[i];
                        if (d == 0f) {
                            continue;
                        }
                        int fo = wo + i * m;
                        for (int j = 0; j < m; j++) {
                            dh[j] += w[fo + j] * d;
                        }
                    }
                } else {
                    for (int j = 0; j < m; j++) {
                        dh[j] = dot(wT, to + j * n, dz, 0, n);
                    }
                }
                // the input's share, x ⊗ ∂L/∂h, over the non-zero inputs: along W's rows when they are wide
                if (wideHidden) {
                    for (int t = nz0; t < nz1; t++) {
                        int gfo = wo - wOff + nzIndex[t] * m;
                        float v = nzValue[t];
                        for (int j = 0; j < m; j++) {
                            gW[gfo + j] += v * dh[j];
                        }
                    }
                } else {
                    for (int j = 0; j < m; j++) {
                        float dhj = dh[j];
                        int tj = to + j * n;
                        for (int t = nz0; t < nz1; t++) {
                            gWT[tj + nzIndex[t]] += nzValue[t] * dhj;
                        }
                    }
                }
            }
            if (experts > 1) {
                routerBackward(s, nz0, nz1, lbGrad, lbAlpha > 0);
            }
        }
        recon *= c;
        if (parts != null) {
            parts[0] = recon;
            parts[1] = lb;
        }
        if (withGradients) {
            untranspose();
        }
        return recon + lb;
    }

    /** gW[e][i][j] += gWT[e][j][i] and gG[e][i] = gGT[i][e]: the accumulated gradients in the parameters' layout. */
    private void untranspose() {
        for (int e = 0; e < experts; e++) {
            int o = e * n * m;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) {
                    gW[o + i * m + j] += gWT[o + j * n + i];
                }
            }
        }
        for (int e = 0; e < experts; e++) {
            for (int i = 0; i < n; i++) {
                gG[e * n + i] = gGT[i * experts + e];
            }
        }
    }

    private void routerBackward(int s, int nz0, int nz1, float lbGrad, boolean lbOn) {
        int po = s * experts;
        for (int e = 0; e < experts; e++) {
            dp[e] = 0f;
        }
        float picked = 0f;
        float abar = 0f;
        for (int r = 0; r < k; r++) {
            picked += prob[po + selected[s * k + r]];
            abar += routeWeight[s * k + r] * a[r];
        }
        boolean any = false;
        for (int r = 0; r < k; r++) {
            // top-1: routeWeight = p/p = 1 exactly, so a − abar = 0 exactly
            float d = torchResidue ? torchTopOneResidue(a[0], picked) : (a[r] - abar) / picked;
            dp[selected[s * k + r]] = d;
            any |= d != 0f;
        }
        if (lbOn) {
            for (int e = 0; e < experts; e++) {
                dp[e] += lbGrad * dispatched[e];
            }
            any = true;
        }
        if (!any) {
            return;
        }
        float dot = 0f;
        for (int e = 0; e < experts; e++) {
            dot += prob[po + e] * dp[e];
        }
        for (int e = 0; e < experts; e++) {
            ds[e] = prob[po + e] * (dp[e] - dot);
        }
        for (int t = nz0; t < nz1; t++) {
            int go = nzIndex[t] * experts;
            float v = nzValue[t];
            for (int e = 0; e < experts; e++) {
                gGT[go + e] += ds[e] * v;
            }
        }
    }

    /**
     * PyTorch's ∂L/∂p of the selected expert for top-1, from autograd of {@code p / s} with s = p: the numerator
     * gives a/s, the denominator −a·((p/s)/s) = −a·(1/p); in float32 these differ by about an ulp of a/p.
     */
    public static float torchTopOneResidue(float a, float p) {
        return a / p - a * ((p / p) / p);
    }

    /** Clears the AdamW moments before a new instance. */
    void resetOptimizer() {
        java.util.Arrays.fill(mW, 0f);
        java.util.Arrays.fill(vW, 0f);
        java.util.Arrays.fill(mB, 0f);
        java.util.Arrays.fill(vB, 0f);
        java.util.Arrays.fill(mG, 0f);
        java.util.Arrays.fill(vG, 0f);
    }

    /** One AdamW step (PyTorch semantics) with the gradients in this workspace; {@code step} counts from 1. */
    void adamW(ToyWeights weights, int instance, int step, double lr, double weightDecay) {
        double bc1 = 1 - Math.pow(dev.moescope.toy.model.TrainingConfig.BETA1, step);
        double bc2 = 1 - Math.pow(dev.moescope.toy.model.TrainingConfig.BETA2, step);
        float decay = (float) (1 - lr * weightDecay);
        float stepSize = (float) (lr / bc1);
        float invSqrtBc2 = (float) (1 / Math.sqrt(bc2));
        update(weights.w, weights.wOffset(instance), gW, mW, vW, decay, stepSize, invSqrtBc2);
        update(weights.b, weights.bOffset(instance), gB, mB, vB, decay, stepSize, invSqrtBc2);
        if (experts > 1) { // a single expert's router is the constant 1: nothing to train
            update(weights.gate, weights.bOffset(instance), gG, mG, vG, decay, stepSize, invSqrtBc2);
        }
    }

    private static void update(float[] p, int off, float[] g, float[] mom, float[] vel, float decay, float stepSize,
                               float invSqrtBc2) {
        final float b1 = (float) dev.moescope.toy.model.TrainingConfig.BETA1;
        final float b2 = (float) dev.moescope.toy.model.TrainingConfig.BETA2;
        final float eps = (float) dev.moescope.toy.model.TrainingConfig.EPS;
        for (int j = 0; j < g.length; j++) {
            float gj = g[j];
            float mj = b1 * mom[j] + (1 - b1) * gj;
            float vj = b2 * vel[j] + (1 - b2) * gj * gj;
            mom[j] = mj;
            vel[j] = vj;
            float pj = p[off + j] * decay;
            p[off + j] = pj - stepSize * mj / ((float) Math.sqrt(vj) * invSqrtBc2 + eps);
        }
    }

    /** Copies of the gradients of the last {@link #lossAndGradients} call: [W, b, gate]. */
    public float[][] gradients() {
        return new float[][] {gW.clone(), gB.clone(), gG.clone()};
    }

    /**
     * Loss and gradients for an explicit batch: the hand-written backward pass, exposed for tests and analyses.
     * Returns [reconstruction, load-balancing]; read the gradients with {@link #gradients()}.
     */
    public double[] evaluate(ToyWeights weights, int instance, float[] importance, float[][] batch,
                             LossReduction reduction, double lbAlpha) {
        load(batch);
        double[] parts = new double[2];
        lossAndGradients(weights, instance, importance, batch.length, reduction, lbAlpha, true, parts);
        return parts;
    }

    /** The top-k experts of each row of {@code batch} for an instance: [sample][slot] (slot 0 = largest p). */
    public int[][] routeBatch(ToyWeights weights, int instance, float[][] batch) {
        load(batch);
        route(weights.gate, weights.bOffset(instance), batch.length);
        int[][] out = new int[batch.length][k];
        for (int s = 0; s < batch.length; s++) {
            for (int r = 0; r < k; r++) {
                out[s][r] = selected[s * k + r];
            }
        }
        return out;
    }

    /** Renormalised gate weights g̃ of the batch last routed by {@link #routeBatch}: [sample][expert]. */
    public float[][] lastRouteWeights(int batch) {
        float[][] out = new float[batch][experts];
        for (int s = 0; s < batch; s++) {
            for (int r = 0; r < k; r++) {
                out[s][selected[s * k + r]] = routeWeight[s * k + r];
            }
        }
        return out;
    }
}
