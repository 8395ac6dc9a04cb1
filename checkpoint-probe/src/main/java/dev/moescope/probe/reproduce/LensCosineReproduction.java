package dev.moescope.probe.reproduce;

import dev.moescope.core.error.MoescopeException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Target 4: MoE Lens's H¹ vs H⁶ cosine similarity. Averaging the per-prompt CSVs
 * ({@code cosine-sim-csv/<name>_chunked_prompt_<n>_cos-sim.csv}, column {@code top1_vs_topk} by {@code layer})
 * per domain must reproduce {@code cosine-sim-avg/<domain>_averaged_top1_vs_topk.csv}. Reports per domain the
 * mean over layers and the minimum with its layer, and the all-domain mean.
 */
final class LensCosineReproduction {

    private static final Pattern PROMPT = Pattern.compile("(.+)_chunked_prompt_(\\d+)_cos-sim\\.csv");
    private static final Pattern AVERAGE = Pattern.compile("(.+)_averaged_top1_vs_topk\\.csv");
    /** Means of float32 cosines printed as doubles: only summation order separates two implementations. */
    static final double TOLERANCE = 1e-12;

    private LensCosineReproduction() {
    }

    static Reproduction run(Path data) {
        Reproduction r = new Reproduction(ReproductionTarget.LENS_COSINE);
        Path promptDir = data.resolve("cosine-sim-csv");
        Path avgDir = data.resolve("cosine-sim-avg");
        Map<String, Path> averages = list(avgDir, AVERAGE);
        Map<String, Path> prompts = list(promptDir, PROMPT);
        if (averages.isEmpty()) {
            throw MoescopeException.badInput(avgDir, "no <domain>_averaged_top1_vs_topk.csv files");
        }
        r.input(promptDir);
        r.input(avgDir);
        Table perLayer = new Table("domain", "layer", "prompts", "mean_top1_vs_topk", "released_average", "abs_diff");
        Table perDomain = new Table("domain", "prompts", "layers", "mean_over_layers", "min", "min_layer", "max",
                "max_layer");
        double allSum = 0;
        int allN = 0;
        for (Map.Entry<String, Path> a : averages.entrySet()) {
            String domain = a.getKey();
            List<Path> mine = promptsOf(domain, prompts, averages.keySet(), promptDir);
            ReleasedCsv avg = ReleasedCsv.read(a.getValue());
            double[] avgLayers = avg.numbers("layer");
            double[] released = avg.numbers("avg_top1_vs_topk");
            double[] sum = new double[released.length];
            for (Path p : mine) {
                ReleasedCsv c = ReleasedCsv.read(p);
                double[] layers = c.numbers("layer");
                if (!java.util.Arrays.equals(layers, avgLayers)) {
                    throw MoescopeException.badInput(p, "its layers differ from " + a.getValue().getFileName() + "'s");
                }
                double[] v = c.numbers("top1_vs_topk");
                for (int i = 0; i < v.length; i++) {
                    sum[i] += v[i];
                }
            }
            double worst = 0;
            double mean = 0;
            int minAt = 0;
            int maxAt = 0;
            double[] ours = new double[sum.length];
            for (int i = 0; i < sum.length; i++) {
                ours[i] = sum[i] / mine.size();
                double diff = Math.abs(ours[i] - released[i]);
                worst = Math.max(worst, diff);
                perLayer.row(domain, (int) avgLayers[i], mine.size(), ours[i], released[i], diff);
                mean += ours[i];
                minAt = ours[i] < ours[minAt] ? i : minAt;
                maxAt = ours[i] > ours[maxAt] ? i : maxAt;
            }
            allSum += mean;
            allN += ours.length;
            mean /= ours.length;
            perDomain.row(domain, mine.size(), ours.length, mean, ours[minAt], (int) avgLayers[minAt], ours[maxAt],
                    (int) avgLayers[maxAt]);
            r.check(new Check(domain + ": mean of " + mine.size() + " prompt CSVs = released average ("
                    + ours.length + " layers)", a.getValue().getFileName().toString(),
                    String.format(Locale.ROOT, "max |Δ| %.1e", worst), "±1e-12", Check.Status.of(worst <= TOLERANCE)));
            r.check(Check.reported(domain + ": mean over layers; min (layer)", "\"as high as 0.95\" in some layers",
                    String.format(Locale.ROOT, "%.4f; %.4f (layer %d)", mean, ours[minAt], (int) avgLayers[minAt])));
        }
        double all = allSum / allN;
        r.check(Check.reported("all domains: mean over domains and layers", "", String.format(Locale.ROOT, "%.4f", all)));
        r.figure("allDomainMean", all);
        r.table("cosine_by_layer", perLayer);
        r.table("cosine_by_domain", perDomain);
        r.show("cosine_by_domain");
        r.note("The released curves sit close to 1 in most layers with dips in a few: MoE Lens's notebook adds the "
                + "normalised gate input to an unweighted expert output taken from the wrong row, so the residual "
                + "dominates both vectors (spec §1.3 d). The corrected computation needs the model (target 11).");
        return r;
    }

    private static Map<String, Path> list(Path dir, Pattern p) {
        Map<String, Path> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(f -> {
                Matcher m = p.matcher(f.getFileName().toString());
                if (m.matches()) {
                    out.put(m.groupCount() == 2 ? m.group(1) + "#" + m.group(2) : m.group(1), f);
                }
            });
        } catch (IOException e) {
            throw MoescopeException.badInput(dir, "cannot list (--data must be MoE Lens's data/ folder): "
                    + e.getMessage(), e);
        }
        return out;
    }

    /**
     * The prompt files of a domain: their name before {@code _chunked_prompt_} is the domain or starts with
     * {@code domain_} (MoE Lens names arXiv's prompts {@code arxiv_title_abstract_chunked_prompt_*}), and no
     * longer domain name claims them.
     */
    private static List<Path> promptsOf(String domain, Map<String, Path> prompts, java.util.Set<String> domains,
                                        Path dir) {
        List<Path> out = new ArrayList<>();
        for (Map.Entry<String, Path> p : prompts.entrySet()) {
            String name = p.getKey().substring(0, p.getKey().lastIndexOf('#'));
            if (owner(name, domains).equals(domain)) {
                out.add(p.getValue());
            }
        }
        if (out.isEmpty()) {
            throw MoescopeException.badInput(dir, "no <" + domain + ">_chunked_prompt_<n>_cos-sim.csv files for "
                    + "the released average of " + domain);
        }
        return out;
    }

    private static String owner(String name, java.util.Set<String> domains) {
        String best = "";
        for (String d : domains) {
            if ((name.equals(d) || name.startsWith(d + "_")) && d.length() > best.length()) {
                best = d;
            }
        }
        return best;
    }
}
