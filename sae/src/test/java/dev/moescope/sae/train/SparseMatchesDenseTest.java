package dev.moescope.sae.train;

import ai.djl.engine.Engine;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.sae.dictionary.DeadLatents;
import dev.moescope.sae.dictionary.LearningRateSchedule;
import dev.moescope.sae.dictionary.Parallel;
import dev.moescope.sae.dictionary.ResumableAdam;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sparse Java kernels (selection, sparse decoder, sparse encoder backward, AuxK) give the same loss and
 * gradients as the straightforward dense DJL-autograd formulation, on small random cases with and without dead
 * latents.
 */
class SparseMatchesDenseTest {

    private static void assertClose(float[] want, float[] got, String what) {
        double maxAbs = 1e-12;
        for (float v : want) {
            maxAbs = Math.max(maxAbs, Math.abs(v));
        }
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 2e-4 * maxAbs + 1e-6, what + "[" + i + "]");
        }
    }

    @Test
    void gradientsMatchTheDenseReference() {
        Engine engine = DjlRuntime.pytorch(2);
        Random r = new Random(5);
        int[][] shapes = {{16, 64, 32, 4}, {24, 96, 50, 3}, {8, 40, 17, 2}};
        for (int[] s : shapes) {
            int d = s[0];
            int f = s[1];
            int rows = s[2];
            int k = s[3];
            for (boolean withDead : new boolean[]{false, true}) {
                SaeConfig cfg = SaeConfig.defaults(f, k, rows, 10).withDeadTokens(1_000_000, 1.0 / 32);
                float[] enc = new float[f * d];
                float[] dec = new float[f * d];
                float[] encB = new float[f];
                float[] decB = new float[d];
                for (int i = 0; i < enc.length; i++) {
                    enc[i] = (float) r.nextGaussian() * 0.3f;
                    dec[i] = (float) r.nextGaussian();
                }
                for (int i = 0; i < f; i++) {
                    encB[i] = (float) r.nextGaussian() * 0.1f;
                }
                for (int j = 0; j < d; j++) {
                    decB[j] = (float) r.nextGaussian() * 0.1f;
                }
                try (Parallel par = new Parallel(2)) {
                    dev.moescope.sae.dictionary.DecoderNorm.normalizeRows(dec, f, d, par);
                }
                float[] x = new float[rows * d];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.nextGaussian();
                }
                DeadLatents deadA = new DeadLatents(f, 1_000_000);
                DeadLatents deadB = new DeadLatents(f, 1_000_000);
                if (withDead) {
                    int[] many = new int[f / 2];
                    for (int i = 0; i < many.length; i++) {
                        many[i] = 2 * i + 1;
                    }
                    deadA.forceSince(many, 5_000_000);
                    deadB.forceSince(many, 5_000_000);
                }
                LearningRateSchedule lr = new LearningRateSchedule(1e-3, 0, -1, 10);
                try (Parallel par = new Parallel(2);
                     SaeModel model = SaeModel.of(engine, new ResumableAdam(lr, 0.9f, 0.999f, 1e-8f), par, d, f,
                             enc, encB, dec, decB)) {
                    Gradients sparse = new SparseStep().compute(model, x, rows, deadA, cfg);
                    Gradients dense = new DenseReferenceStep(engine).compute(model, x, rows, deadB, cfg);
                    String tag = "d=" + d + " F=" + f + " B=" + rows + " dead=" + withDead;
                    assertEquals(dense.l0, sparse.l0, 1e-9, tag + " L0");
                    assertEquals(k, sparse.l0, 1e-9, tag + " L0 = k");
                    assertEquals(dense.dead, sparse.dead, tag + " dead");
                    assertArrayEquals(deadB.state(), deadA.state(), tag + " dead counters");
                    if (withDead) {
                        assertTrue(sparse.auxk > 0, tag + " AuxK active");
                    }
                    assertEquals(dense.reconstruction, sparse.reconstruction, 1e-4 * dense.reconstruction, tag);
                    assertEquals(dense.auxk, sparse.auxk, 1e-4 * Math.max(1e-6, dense.auxk), tag + " auxk");
                    assertEquals(dense.loss, sparse.loss, 1e-4 * dense.loss, tag + " loss");
                    assertEquals(dense.minSelected, sparse.minSelected, 1e-6, tag + " min selected");
                    assertClose(dense.decoder, sparse.decoder, tag + " dDecoder");
                    assertClose(dense.encoder, sparse.encoder, tag + " dEncoder");
                    assertClose(dense.encoderBias, sparse.encoderBias, tag + " dEncoderBias");
                    assertClose(dense.decoderBias, sparse.decoderBias, tag + " dDecoderBias");
                }
            }
        }
    }

    /** Whole training steps (projection, clipping, Adam, renormalisation included) agree between the kernels. */
    @Test
    void trainingTrajectoriesAgree() {
        Engine engine = DjlRuntime.pytorch(2);
        dev.moescope.sae.data.SyntheticSource src = new dev.moescope.sae.data.SyntheticSource(
                new dev.moescope.sae.data.SyntheticSource.Spec(16, 40, 3, 0.05, 256, 9));
        SaeConfig cfg = SaeConfig.defaults(64, 4, 64, 12).withLr(2e-3).withSchedule(3, 2).withDeadTokens(64, 0.5);
        float[] sparseDec;
        float[] denseDec;
        java.util.List<StepStats> a = new java.util.ArrayList<>();
        try (SaeTraining t = SaeTraining.start(engine, src, cfg.withKernel(SaeConfig.Kernel.SPARSE), 1, 2)) {
            for (int i = 0; i < 12; i++) {
                a.add(t.step());
            }
            sparseDec = t.model().read(SaeModel.DECODER);
        }
        try (SaeTraining t = SaeTraining.start(engine, src, cfg.withKernel(SaeConfig.Kernel.DENSE), 1, 2)) {
            for (int i = 0; i < 12; i++) {
                StepStats s = t.step();
                assertEquals(a.get(i).loss(), s.loss(), 1e-3 * s.loss(), "loss at step " + (i + 1));
                assertEquals(a.get(i).l0(), s.l0(), 1e-9);
                assertEquals(a.get(i).deadFraction(), s.deadFraction(), 1e-9);
            }
            denseDec = t.model().read(SaeModel.DECODER);
        }
        assertClose(denseDec, sparseDec, "decoder after 12 steps");
    }
}
