package dev.moescope.crosscoder.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.moescope.sae.dictionary.DeadLatents;
import dev.moescope.sae.train.DenseReferenceStep;
import dev.moescope.sae.train.Gradients;
import dev.moescope.sae.train.SaeModel;
import dev.moescope.sae.train.StepObjective;

/**
 * The crosscoder step written the usual dense way with DJL autograd, as the paper code writes it in PyTorch:
 * {@code pre = relu(x·Eᵀ + b_enc)} on concatenated source rows, a top-k of {@code pre ⊙ w} over the flattened
 * B×F matrix, a mask, a dense decoder matmul, the decoder-norm L1 term computed from per-source column blocks of
 * the decoder, AuxK by a per-row top-k over dead latents, then {@code backward()}. Slow, but obviously right: the
 * tests hold the sparse step ({@link dev.moescope.sae.train.SparseStep} with a crosscoder objective) to it.
 * Assumes no two ranking values tie at the selection threshold (true for random real-valued inputs).
 */
final class DenseCrosscoderStep {

    private final Engine engine;

    DenseCrosscoderStep(Engine engine) {
        this.engine = engine;
    }

    /**
     * The same quantities the sparse step computes ({@code objective.penalty()} is ignored: this step writes the L1
     * term itself, from the arguments below, so the two implementations share nothing but the inputs).
     *
     * @param segments     source widths (the decoder's column blocks)
     * @param shared       designated shared latents N
     * @param standard     λ_f
     * @param sharedWeight λ_s
     */
    Gradients compute(SaeModel model, float[] x, int rows, DeadLatents deadLatents, StepObjective objective,
                      int[] segments, int shared, double standard, double sharedWeight) {
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
            NDArray input = objective.centredEncoder() ? xs.sub(decB) : xs;
            NDArray act = input.matMul(enc.transpose()).add(encB).getNDArrayInternal().relu();
            NDArray w = objective.rankScale() == null ? m.ones(new Shape(1, nLat))
                    : m.create(objective.rankScale()).reshape(1, nLat);
            NDArray ranked = act.mul(w).stopGradient();
            NDList top = ranked.reshape(-1).topK(objective.k() * rows, 0, true, false);
            NDArray threshold = top.get(0).min();
            NDArray mask = ranked.gte(threshold).logicalAnd(ranked.gt(0)).toType(DataType.FLOAT32, false);
            NDArray f = act.mul(mask);
            boolean[] fired = mask.sum(new int[]{0}).gt(0).toBooleanArray();
            deadLatents.update(fired, rows);
            int[] dead = deadLatents.dead();
            NDArray e = f.matMul(dec).add(decB).sub(xs);
            NDArray rec = e.square().sum(new int[]{1}).mean();
            NDArray loss = rec;
            double sparsity = 0;
            if ((standard > 0 || (shared > 0 && sharedWeight > 0))) {
                NDArray p = penalty(m, dec, f, segments, nLat, shared, standard, sharedWeight);
                sparsity = p.getFloat();
                loss = loss.add(p);
            }
            double auxValue = 0;
            if (objective.auxkAlpha() > 0 && dead.length > 0) {
                NDArray auxLoss = DenseReferenceStep.auxKLoss(m, act, ranked, dec, e, dead,
                        Math.min(objective.kAux(), dead.length));
                if (auxLoss != null) {
                    auxValue = auxLoss.getFloat();
                    loss = loss.add(auxLoss.mul((float) objective.auxkAlpha()));
                }
            }
            gc.backward(loss);
            copy(enc.getGradient(), g.encoder);
            copy(encB.getGradient(), g.encoderBias);
            copy(dec.getGradient(), g.decoder);
            copy(decB.getGradient(), g.decoderBias);
            g.residual = e.stopGradient().toFloatArray();
            g.reconstruction = rec.getFloat();
            g.auxk = auxValue;
            g.sparsity = sparsity;
            g.loss = loss.getFloat();
            g.l0 = mask.sum().getFloat() / rows;
            g.minSelected = threshold.getFloat();
            g.dead = dead.length;
        }
        return g;
    }

    /**
     * {@code mean_b Σ_i f_bi w_i} with {@code w_i = λ_f Σ_s ‖D^s_i‖} for standard latents and
     * {@code λ_s ‖mean_s D^s_i‖} for designated shared ones (ε 1e-12 under each root).
     */
    private static NDArray penalty(NDManager m, NDArray dec, NDArray f, int[] segments, int nLat, int shared,
                                   double standard, double sharedWeight) {
        NDArray sum = null;
        NDArray mean = null;
        int o = 0;
        for (int seg : segments) {
            NDArray block = dec.get(new NDIndex(":, " + o + ":" + (o + seg)));
            NDArray n = block.square().sum(new int[]{1}).add(1e-12f).sqrt();
            sum = sum == null ? n : sum.add(n);
            if (shared > 0) {
                mean = mean == null ? block : mean.add(block);
            }
            o += seg;
        }
        float[] standardMask = new float[nLat];
        float[] sharedMask = new float[nLat];
        for (int i = 0; i < nLat; i++) {
            if (i < shared) {
                sharedMask[i] = (float) sharedWeight;
            } else {
                standardMask[i] = (float) standard;
            }
        }
        NDArray weight = sum.mul(m.create(standardMask));
        if (shared > 0) {
            NDArray sharedNorm = mean.div((float) segments.length).square().sum(new int[]{1}).add(1e-12f).sqrt();
            weight = weight.add(sharedNorm.mul(m.create(sharedMask)));
        }
        return f.mul(weight.reshape(1, nLat)).sum(new int[]{1}).mean();
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
}
