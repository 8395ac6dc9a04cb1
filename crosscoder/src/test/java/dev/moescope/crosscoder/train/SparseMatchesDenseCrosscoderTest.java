package dev.moescope.crosscoder.train;

import ai.djl.engine.Engine;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.crosscoder.data.SyntheticPairSource;
import dev.moescope.sae.dictionary.DeadLatents;
import dev.moescope.sae.dictionary.Parallel;
import dev.moescope.sae.train.Gradients;
import dev.moescope.sae.train.SaeModel;
import dev.moescope.sae.train.SparseStep;
import dev.moescope.sae.train.StepObjective;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The crosscoder's sparse step (sae's {@link SparseStep} with a crosscoder objective: no input centring,
 * decoder-norm-weighted selection and AuxK ranking, the decoder-norm L1 term with designated shared latents) gives
 * the same loss and gradients as the dense DJL-autograd formulation ({@link DenseCrosscoderStep}), on random
 * states with free (non-unit) decoder norms, two and three sources, with and without dead latents; and whole
 * training steps (clipping, Adam, re-tying) follow the same trajectory.
 */
class SparseMatchesDenseCrosscoderTest {

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
        Random r = new Random(17);
        // widths, F, rows, k, shared, selection
        Object[][] cases = {
                {new int[]{12, 12}, 48, 40, 3, 4, SelectionWeighting.CROSSCODER},
                {new int[]{8, 8, 8}, 40, 33, 2, 3, SelectionWeighting.MIXED},
                {new int[]{10, 14}, 36, 25, 4, 0, SelectionWeighting.SAE},
        };
        for (Object[] c : cases) {
            int[] widths = (int[]) c[0];
            int f = (int) c[1];
            int rows = (int) c[2];
            int k = (int) c[3];
            int shared = (int) c[4];
            int total = java.util.Arrays.stream(widths).sum();
            for (boolean withDead : new boolean[]{false, true}) {
                CrosscoderConfig cfg = CrosscoderConfig.defaults(f, k, shared, rows, 10, 3)
                        .withSelection((SelectionWeighting) c[5]).withDeadTokens(1_000_000)
                        .withSparsityPenalties(0.05, 0.02);
                try (Parallel par = new Parallel(2);
                     Crosscoder cc = Crosscoder.initialise(engine, cfg, widths, par)) {
                    SaeModel m = cc.model();
                    float[] enc = new float[f * total];
                    float[] dec = new float[f * total];
                    float[] encB = new float[f];
                    float[] decB = new float[total];
                    for (int i = 0; i < enc.length; i++) {
                        enc[i] = (float) r.nextGaussian() * 0.3f;
                        dec[i] = (float) (r.nextGaussian() * (0.2 + (i / total) % 5 * 0.3)); // free, uneven norms
                    }
                    for (int i = 0; i < shared; i++) { // designated shared latents: tied segments
                        for (int s = 1; s < widths.length; s++) {
                            System.arraycopy(dec, i * total, dec, i * total + s * widths[0], widths[0]);
                        }
                    }
                    for (int i = 0; i < f; i++) {
                        encB[i] = (float) r.nextGaussian() * 0.1f;
                    }
                    for (int j = 0; j < total; j++) {
                        decB[j] = (float) r.nextGaussian() * 0.1f;
                    }
                    m.write(SaeModel.ENCODER, enc);
                    m.write(SaeModel.ENCODER_BIAS, encB);
                    m.write(SaeModel.DECODER, dec);
                    m.write(SaeModel.DECODER_BIAS, decB);
                    float[] x = new float[rows * total];
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
                    StepObjective objective = cc.objective();
                    assertTrue(objective.penalty() != null && objective.rankScale() != null);
                    Gradients sparse = new SparseStep().compute(m, x, rows, deadA, objective);
                    Gradients dense = new DenseCrosscoderStep(engine).compute(m, x, rows, deadB, objective, widths,
                            shared, 0.05, 0.02);
                    String tag = java.util.Arrays.toString(widths) + " F=" + f + " B=" + rows + " dead=" + withDead;
                    assertEquals(k, sparse.l0, 1e-9, tag + " L0 = k");
                    assertEquals(dense.l0, sparse.l0, 1e-9, tag + " L0");
                    assertEquals(dense.dead, sparse.dead, tag + " dead");
                    assertArrayEquals(deadB.state(), deadA.state(), tag + " dead counters");
                    if (withDead) {
                        assertTrue(sparse.auxk > 0, tag + " AuxK active");
                    }
                    assertTrue(sparse.sparsity > 0, tag + " L1 term active");
                    assertEquals(dense.reconstruction, sparse.reconstruction, 1e-4 * dense.reconstruction, tag);
                    assertEquals(dense.auxk, sparse.auxk, 1e-4 * Math.max(1e-6, dense.auxk), tag + " auxk");
                    assertEquals(dense.sparsity, sparse.sparsity, 1e-4 * dense.sparsity, tag + " L1");
                    assertEquals(dense.loss, sparse.loss, 1e-4 * dense.loss, tag + " loss");
                    assertEquals(dense.minSelected, sparse.minSelected, 1e-5 * dense.minSelected, tag + " min");
                    assertClose(dense.residual, sparse.residual, tag + " residual");
                    assertClose(dense.decoder, sparse.decoder, tag + " dDecoder");
                    assertClose(dense.encoder, sparse.encoder, tag + " dEncoder");
                    assertClose(dense.encoderBias, sparse.encoderBias, tag + " dEncoderBias");
                    assertClose(dense.decoderBias, sparse.decoderBias, tag + " dDecoderBias");
                }
            }
        }
    }

    /** Whole steps (clipping, Adam, shared-latent re-tying included) agree between the two kernels. */
    @Test
    void trainingTrajectoriesAgree() {
        Engine engine = DjlRuntime.pytorch(2);
        SyntheticPairSource src = new SyntheticPairSource(12, 4, 4, 4, 0.1, 5);
        CrosscoderConfig cfg = CrosscoderConfig.defaults(40, 3, 2, 64, 12, 9).withLr(3e-3).withDeadTokens(128);
        List<Crosscoder.StepStats> a = new ArrayList<>();
        float[] sparseDec;
        try (Parallel par = new Parallel(2)) {
            CrosscoderTraining t = CrosscoderTraining.start(engine, src, cfg, par);
            try (Crosscoder cc = t.model()) {
                for (int i = 0; i < 12; i++) {
                    a.add(t.step());
                }
                sparseDec = cc.model().read(SaeModel.DECODER);
            }
            t = CrosscoderTraining.start(engine, src, cfg.withKernel(CrosscoderConfig.Kernel.DENSE), par);
            boolean sawAux = false;
            try (Crosscoder cc = t.model()) {
                for (int i = 0; i < 12; i++) {
                    Crosscoder.StepStats s = t.step();
                    assertEquals(s.loss(), a.get(i).loss(), 1e-3 * s.loss(), "loss at step " + (i + 1));
                    assertEquals(s.l0(), a.get(i).l0(), 1e-9);
                    assertEquals(s.dead(), a.get(i).dead());
                    sawAux |= s.auxk() > 0;
                }
                assertClose(cc.model().read(SaeModel.DECODER), sparseDec, "decoder after 12 steps");
            }
            assertTrue(sawAux, "AuxK active in the window");
        }
    }
}
