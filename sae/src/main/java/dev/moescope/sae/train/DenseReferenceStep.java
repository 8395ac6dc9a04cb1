package dev.moescope.sae.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.moescope.sae.dictionary.DeadLatents;

/**
 * The BatchTopK step written the usual dense way with DJL autograd, as dictionary_learning writes it in PyTorch:
 * {@code pre = relu((x − b_dec)·W + b_enc)}, a top-k over the flattened B×F matrix, a mask, a dense decoder
 * matmul, AuxK by a per-row top-k over dead latents, then {@code backward()}. Slow (it does the dense B×F work
 * twice more than {@link SparseStep}) but obviously right; the tests hold the sparse kernel to it. Assumes no two
 * activations tie at the selection threshold (true for random real-valued inputs).
 */
public final class DenseReferenceStep implements StepKernel {

    private final Engine engine;

    public DenseReferenceStep(Engine engine) {
        this.engine = engine;
    }

    @Override
    public Gradients compute(SaeModel model, float[] x, int rows, DeadLatents deadLatents, SaeConfig config) {
        int d = model.width();
        int nLat = model.latents();
        Gradients g = new Gradients(nLat, d);
        try (NDScope scope = new NDScope(); GradientCollector gc = engine.newGradientCollector()) {
            NDManager m = model.manager();
            NDArray enc = leaf(model.parameter(SaeModel.ENCODER));
            NDArray encB = leaf(model.parameter(SaeModel.ENCODER_BIAS));
            NDArray dec = leaf(model.parameter(SaeModel.DECODER));
            NDArray decB = leaf(model.parameter(SaeModel.DECODER_BIAS));
            NDArray xs = m.create(x, new Shape(rows, d));
            NDArray act = xs.sub(decB).matMul(enc.transpose()).add(encB).getNDArrayInternal().relu();
            int winners = config.k() * rows;
            NDList top = act.reshape(-1).topK(winners, 0, true, false);
            NDArray threshold = top.get(0).min();
            NDArray mask = act.gte(threshold).logicalAnd(act.gt(0)).toType(DataType.FLOAT32, false);
            NDArray f = act.mul(mask);
            boolean[] fired = mask.sum(new int[]{0}).gt(0).toBooleanArray();
            deadLatents.update(fired, rows);
            int[] dead = deadLatents.dead();
            NDArray e = f.matMul(dec).add(decB).sub(xs);
            NDArray rec = e.square().sum(new int[]{1}).mean();
            NDArray loss = rec;
            double auxValue = 0;
            if (config.auxkAlpha() > 0 && dead.length > 0) {
                NDArray auxLoss = auxKLoss(m, act, act, dec, e, dead, Math.min(config.effectiveKAux(d), dead.length));
                if (auxLoss != null) {
                    auxValue = auxLoss.getFloat();
                    loss = loss.add(auxLoss.mul((float) config.auxkAlpha()));
                }
            }
            gc.backward(loss);
            copy(enc.getGradient(), g.encoder);
            copy(encB.getGradient(), g.encoderBias);
            copy(dec.getGradient(), g.decoder);
            copy(decB.getGradient(), g.decoderBias);
            g.reconstruction = rec.getFloat();
            g.auxk = auxValue;
            g.loss = loss.getFloat();
            g.l0 = mask.sum().getFloat() / rows;
            g.minSelected = threshold.getFloat();
            g.dead = dead.length;
        }
        return g;
    }

    /** A detached handle on a parameter's storage that records its own gradient. */
    private static NDArray leaf(NDArray parameter) {
        NDArray a = parameter.stopGradient();
        a.setRequiresGradient(true);
        return a;
    }

    private static void copy(NDArray grad, float[] into) {
        float[] v = grad.toFloatArray();
        System.arraycopy(v, 0, into, 0, into.length);
        grad.close();
    }

    /**
     * The dense AuxK term, normalised as the sparse kernel's: the dead latents' top {@code kAux} activations per row
     * (ranked by {@code ranked}, kept where positive) reconstruct the residual {@code -e}; null when the residual has
     * no variance. Shared by this reference and the crosscoder's dense reference step.
     */
    public static NDArray auxKLoss(NDManager m, NDArray act, NDArray ranked, NDArray dec, NDArray e, int[] dead,
                                   int kAux) {
        long rows = act.getShape().get(0);
        int nLat = (int) act.getShape().get(1);
        float[] deadMask = new float[nLat];
        for (int i : dead) {
            deadMask[i] = 1;
        }
        NDArray dm = m.create(deadMask).reshape(1, nLat);
        NDArray candidates = NDArrays.where(dm.gt(0).broadcast(new Shape(rows, nLat)), ranked,
                m.full(new Shape(rows, nLat), Float.NEGATIVE_INFINITY));
        NDArray rowT = candidates.topK(kAux, 1, true, false).get(0).min(new int[]{1}, true);
        NDArray auxMask = candidates.gte(rowT).logicalAnd(ranked.gt(0)).toType(DataType.FLOAT32, false);
        NDArray auxRec = act.mul(auxMask).matMul(dec);
        NDArray residual = e.neg().stopGradient();
        NDArray num = residual.sub(auxRec).square().sum(new int[]{1}).mean();
        NDArray den = residual.sub(residual.mean(new int[]{0}, true)).square().sum(new int[]{1}).mean();
        float denV = den.getFloat();
        return denV > 0 && Float.isFinite(denV) ? num.div(den) : null;
    }
}
