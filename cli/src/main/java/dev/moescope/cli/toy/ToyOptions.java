package dev.moescope.cli.toy;

import dev.moescope.core.error.MoescopeException;
import dev.moescope.toy.model.BiasInit;
import dev.moescope.toy.model.LossReduction;
import dev.moescope.toy.model.RouterGradient;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.train.BestOfSeeds;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/** Training options shared by {@code toy train} and {@code toy sweep}, and list parsing for sweep axes. */
public final class ToyOptions {

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1024",
            description = "Samples per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "10000",
            description = "Training steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--lr", paramLabel = "RATE", defaultValue = "1e-3",
            description = "AdamW learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--weight-decay", paramLabel = "W", defaultValue = "0.01",
            description = "AdamW decoupled weight decay (default: ${DEFAULT-VALUE}, PyTorch's).")
    double weightDecay;

    @Option(names = "--loss-reduction", paramLabel = "MODE", defaultValue = "mean",
            description = "Over features: 'mean' (Anthropic, vectorised MoE code) or 'sum' (MoE single-model code).")
    String reduction;

    @Option(names = "--bias-init", paramLabel = "INIT", defaultValue = "xavier",
            description = "'xavier' (MoE paper) or 'zero' (Anthropic).")
    String biasInit;

    @Option(names = "--router-gradient", paramLabel = "MODE", defaultValue = "exact",
            description = "Top-1 router gradient: 'exact' (zero) or 'pytorch-float32' (PyTorch's round-off residue).")
    String routerGradient;

    @Option(names = "--load-balancing", paramLabel = "ALPHA", defaultValue = "0",
            description = "α of the Switch load-balancing loss α·E·Σ f_e P_e; 0 = off (default). The paper used 0.01.")
    double loadBalancing;

    @Option(names = "--seeds", paramLabel = "N", defaultValue = "1",
            description = "Seeds per configuration; the best is kept.")
    int seeds;

    @Option(names = "--select", paramLabel = "CRITERION", defaultValue = "held-out",
            description = "Best-of-seeds criterion: 'held-out' (fresh samples) or 'last-batch' (the authors').")
    String select;

    TrainingConfig config() {
        LossReduction red = switch (reduction.toLowerCase()) {
            case "mean" -> LossReduction.MEAN_FEATURES;
            case "sum" -> LossReduction.SUM_FEATURES;
            default -> throw MoescopeException.usage("--loss-reduction must be mean or sum, got " + reduction);
        };
        BiasInit bias = BiasInit.parse(biasInit);
        return new TrainingConfig(batch, steps, lr, weightDecay, red, bias, loadBalancing, null, 4096,
                Math.max(1, steps / 100), RouterGradient.parse(routerGradient));
    }

    BestOfSeeds.Criterion criterion() {
        return BestOfSeeds.Criterion.parse(select);
    }

    /** Parses "0.1,0.5,0.9" or "start:stop:step" (inclusive) into numbers. */
    static double[] doubles(String option, String text) {
        try {
            if (text.contains(":")) {
                String[] p = text.split(":");
                if (p.length != 3) {
                    throw new NumberFormatException("expected start:stop:step");
                }
                double a = Double.parseDouble(p[0]);
                double b = Double.parseDouble(p[1]);
                double s = Double.parseDouble(p[2]);
                if (!(s > 0) || b < a) {
                    throw new NumberFormatException("need step > 0 and stop >= start");
                }
                List<Double> v = new ArrayList<>();
                for (int i = 0; a + i * s <= b + 1e-9; i++) {
                    v.add(Math.round((a + i * s) * 1e9) / 1e9);
                }
                return v.stream().mapToDouble(Double::doubleValue).toArray();
            }
            String[] parts = text.split(",");
            double[] v = new double[parts.length];
            for (int i = 0; i < parts.length; i++) {
                v[i] = Double.parseDouble(parts[i].trim());
            }
            return v;
        } catch (NumberFormatException e) {
            throw MoescopeException.usage(option + " must be a comma list or start:stop:step, got '" + text + "'");
        }
    }

    static int[] ints(String option, String text) {
        double[] d = doubles(option, text);
        int[] v = new int[d.length];
        for (int i = 0; i < d.length; i++) {
            if (d[i] != Math.rint(d[i])) {
                throw MoescopeException.usage(option + " must list whole numbers, got '" + text + "'");
            }
            v[i] = (int) d[i];
        }
        return v;
    }
}
