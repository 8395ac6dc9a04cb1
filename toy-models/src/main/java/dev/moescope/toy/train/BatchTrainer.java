package dev.moescope.toy.train;

import dev.moescope.core.Seeds;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.Require;
import dev.moescope.core.progress.Progress;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.model.ToyWeights;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Trains many instances of one architecture at once: every grid cell and seed of a sweep is one instance in one
 * {@link ToyWeights}. Threads take instances from a shared counter and train each for all its steps; data are
 * generated per instance from its own seed, so results do not depend on the thread count or scheduling.
 */
public final class BatchTrainer {

    private final Architecture arch;
    private final TrainingConfig config;
    private final int threads;

    /** {@code threads} 0 means one per available core. */
    public BatchTrainer(Architecture arch, TrainingConfig config, int threads) {
        this.arch = Require.notNull("architecture", arch);
        this.config = Require.notNull("training config", config);
        Require.nonNegative("threads", threads);
        this.threads = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    }

    /** Initialises (as the MoE paper does) and trains every spec; {@code task} names the progress bar. */
    public TrainResult train(InstanceSpec[] specs, String task) {
        return train(specs, ToyWeights.initialise(arch, specs, config.biasInit()), task);
    }

    /** Trains {@code weights} (updated in place) for the given specs. */
    public TrainResult train(InstanceSpec[] specs, ToyWeights weights, String task) {
        int count = specs.length;
        Require.that(weights.instances() == count, "weights instances", "equal to specs " + count, weights.instances());
        double[] lastLoss = new double[count];
        double[] lastRecon = new double[count];
        double[] lastBalance = new double[count];
        double[] heldOut = new double[count];
        int[] stepsRun = new int[count];
        int logs = (config.steps() + config.lossLogInterval() - 1) / config.lossLogInterval();
        float[][] lossLog = new float[count][logs];
        AtomicInteger next = new AtomicInteger();
        AtomicLong done = new AtomicLong();
        AtomicBoolean failed = new AtomicBoolean();
        int pool = Math.max(1, Math.min(threads, count));
        long start = System.nanoTime();
        ExecutorService exec = Executors.newFixedThreadPool(pool, r -> {
            Thread t = new Thread(r, "toy-trainer");
            t.setDaemon(true);
            return t;
        });
        try (Progress progress = Progress.start(task, (long) count * config.steps(), "step")) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < pool; t++) {
                futures.add(exec.submit(() -> {
                    ToyKernel kernel = new ToyKernel(arch, Math.max(config.batch(), 1024), true,
                            config.routerGradient());
                    int inst;
                    while (!failed.get() && (inst = next.getAndIncrement()) < count) {
                        try {
                            // train a private copy: threads never write to cache lines another thread uses
                            ToyWeights local = kernel.localWeights();
                            weights.copyInstance(inst, local, 0);
                            trainInstance(kernel, local, inst, specs[inst], lastLoss, lastRecon, lastBalance,
                                    stepsRun, lossLog[inst], done);
                            heldOut[inst] = heldOutLoss(kernel, local, specs[inst]);
                            local.copyInstance(0, weights, inst);
                        } catch (RuntimeException e) {
                            failed.set(true);
                            throw e;
                        }
                    }
                    return null;
                }));
            }
            waitFor(futures, progress, done);
        } finally {
            exec.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new TrainResult(arch, config, specs.clone(), weights, lastLoss, lastRecon, lastBalance, heldOut,
                stepsRun, lossLog, seconds);
    }

    private static void waitFor(List<Future<?>> futures, Progress progress, AtomicLong done) {
        try {
            for (Future<?> f : futures) {
                while (true) {
                    try {
                        f.get(250, TimeUnit.MILLISECONDS);
                        break;
                    } catch (java.util.concurrent.TimeoutException e) {
                        progress.stepTo(done.get());
                    }
                }
            }
            progress.stepTo(done.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw MoescopeException.failure("training interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof MoescopeException me) {
                throw me;
            }
            throw MoescopeException.failure("training failed: " + e.getCause(), e.getCause());
        }
    }

    /** Trains instance {@code inst} held as instance 0 of {@code weights} (the kernel's private copy). */
    private void trainInstance(ToyKernel kernel, ToyWeights weights, int inst, InstanceSpec spec, double[] lastLoss,
                               double[] lastRecon, double[] lastBalance, int[] stepsRun, float[] log,
                               AtomicLong done) {
        InstanceRandom rnd = new InstanceRandom(Seeds.derive(spec.seed(), "toy data"));
        float[] density = spec.density();
        float[] importance = spec.importance();
        kernel.resetOptimizer();
        double lr = config.learningRate();
        TrainingConfig.EarlyStop early = config.earlyStop();
        double[] parts = new double[2];
        int step = 0;
        double loss = Double.NaN;
        while (step < config.steps()) {
            kernel.sample(rnd, density, config.batch());
            loss = kernel.lossAndGradients(weights, 0, importance, config.batch(), config.reduction(),
                    config.loadBalancing(), true, parts);
            if (!Double.isFinite(loss)) {
                throw MoescopeException.failure("training diverged: instance " + inst + " (" + spec.label()
                        + ") has loss " + loss + " at step " + (step + 1), null);
            }
            if (step % config.lossLogInterval() == 0) {
                log[step / config.lossLogInterval()] = (float) loss;
            }
            step++;
            kernel.adamW(weights, 0, step, lr, config.weightDecay());
            if ((step & 63) == 0) {
                done.addAndGet(64);
            }
            // the authors' order: this batch's update uses the current rate; a low loss lowers the rate from the
            // next step on and, below the stop threshold, ends training after this update
            if (early != null && loss < early.decayBelow()) {
                lr *= early.decayFactor();
            }
            if (early != null && loss < early.stopBelow()) {
                break;
            }
        }
        done.addAndGet((step & 63) + (config.steps() - step));
        lastLoss[inst] = loss;
        lastRecon[inst] = parts[0];
        lastBalance[inst] = parts[1];
        stepsRun[inst] = step;
    }

    /** Reconstruction loss (no LB) on {@code evalSamples} fresh samples from the instance's own held-out stream. */
    private double heldOutLoss(ToyKernel kernel, ToyWeights weights, InstanceSpec spec) {
        InstanceRandom rnd = new InstanceRandom(Seeds.derive(spec.seed(), "toy held-out"));
        float[] density = spec.density();
        float[] importance = spec.importance();
        int remaining = config.evalSamples();
        double total = 0;
        double[] parts = new double[2];
        int chunk = Math.max(config.batch(), 1024);
        while (remaining > 0) {
            int b = Math.min(chunk, remaining);
            kernel.sample(rnd, density, b);
            kernel.lossAndGradients(weights, 0, importance, b, config.reduction(), 0.0, false, parts);
            total += parts[0] * b;
            remaining -= b;
        }
        return total / config.evalSamples();
    }
}
