package dev.moescope.cli.report;

import java.util.ArrayList;
import java.util.List;

/** Section 3: toy models of superposition, dense vs MoE (features per dimension; a phase diagram). */
final class ToySection {

    private ToySection() {
    }

    static void render(Html h, DemoRun run) {
        h.raw("<section id=\"toy\">").h(2, null, "3. Toy models of superposition");
        h.p("Tiny tied-weight autoencoders compress n sparse synthetic features into m hidden dimensions. Dense "
                + "models (Elhage et al., Toy Models of Superposition) are compared with Mixture-of-Experts models "
                + "(Chaudhari, Nuer & Thorstenson), which route each input to k of E small autoencoders.");
        fig3(h, run.stage(DemoReport.TOY_FIG3));
        fig4(h, run.stage(DemoReport.TOY_FIG4));
        h.raw("</section>\n");
    }

    private static void fig3(Html h, DemoRun.Stage s) {
        h.h(3, "toy-fig3", "Features per dimension as features get sparser (MoE paper, Fig 3)");
        if (!ReportPage.require(h, s, "Features per dimension")) {
            return;
        }
        Doc r = s.summary().get("results");
        if ("true".equals(r.str("quick"))) {
            h.p("Reduced run (--quick): fewer features, densities and steps than the paper; demo --full runs the "
                    + "paper's settings.");
        }
        h.png(s.file("fig3-features-per-dimension.png"), "features per dimension vs 1/(1-S)",
                "Features per dimension (how many features each hidden dimension stores; above 1 means "
                        + "superposition) against 1/(1−S), where S is feature sparsity, on a log axis. Look for: "
                        + "every curve rises as features get sparser, and the MoE curves stay below the dense one: "
                        + "experts superpose less than a dense model of the same total width.");
        List<List<String>> rows = new ArrayList<>();
        double[] x = r.nums("x_inverse_density");
        for (Doc f : r.list("families")) {
            double[] fpd = f.nums("features_per_dimension");
            double[] loss = f.nums("mean_held_out_loss");
            rows.add(List.of(ReportPage.nz(f.str("label")),
                    Svg.num(f.num("architecture.features")) + " / " + Svg.num(f.num("architecture.hidden")) + " / "
                            + Svg.num(f.num("architecture.experts")) + " / " + Svg.num(f.num("architecture.active")),
                    fpd.length > 0 ? Svg.num(fpd[0]) : "n/a", fpd.length > 0 ? Svg.num(fpd[fpd.length - 1]) : "n/a",
                    loss.length > 0 ? Svg.num(loss[loss.length - 1]) : "n/a",
                    Svg.num(f.num("model_steps_per_second"))));
        }
        h.table(List.of("family", "n / m / E / k", "features per dim at 1/(1−S) = " + Svg.num(x.length > 0 ? x[0] : 1),
                "at 1/(1−S) = " + Svg.num(x.length > 0 ? x[x.length - 1] : Double.NaN),
                "held-out loss, sparsest", "model-steps/s"), rows, 2);
        h.png(s.file("fig3-loss.png"), "reconstruction loss vs sparsity",
                "Held-out reconstruction loss per family against 1/(1−S), log y axis. Look for: the loss peaks at "
                        + "moderate sparsity and falls as features get sparser (fewer are active at once, so fewer "
                        + "collide); the narrower MoE experts pay a little more loss than the dense model.");
        ReportPage.listedFigures(h, s);
    }

    private static void fig4(Html h, DemoRun.Stage s) {
        h.h(3, "toy-fig4", "Phase diagram of the last feature (MoE paper, Fig 4)");
        if (!ReportPage.require(h, s, "Phase diagram")) {
            return;
        }
        Doc r = s.summary().get("results");
        h.p("Two features share one hidden dimension (n = 2, m = 1) per expert. Over a grid of feature sparsity S "
                + "and the last feature's importance, each cell is classed by what happens to the last feature: not "
                + "represented, given a dedicated dimension, or superposed with the other.");
        h.png(s.file("fig4-phase-diagrams.png"), "MoE phase diagrams",
                "The trained MoE's last feature per grid cell: colour lightness is its norm (white = not "
                        + "represented), hue its superposition (blue = dedicated, red = superposed); importance grows "
                        + "to the right, sparsity downwards. Look for: how irregular the map is compared with the "
                        + "analytic dense diagram below.");
        h.png(s.file("fig4-analytic.png"), "analytic phase diagrams",
                "The exact dense phase diagrams (closed form) on the same grid: clean regions with sharp boundaries.");
        List<List<String>> rows = new ArrayList<>();
        for (Doc c : r.list("configs")) {
            for (Doc p : c.list("panels")) {
                rows.add(List.of(ReportPage.nz(c.str("config")), ReportPage.nz(p.str("panel")),
                        Svg.num(p.num("roughness")), Svg.num(p.num("fraction_not_represented")),
                        Svg.num(p.num("fraction_dedicated")), Svg.num(p.num("fraction_superposed")),
                        Svg.num(c.num("median_held_out_recon_loss"))));
            }
        }
        rows.add(List.of("analytic", "n=2, m=1", Svg.num(r.num("analytic.n2m1_roughness")), "", "", "", ""));
        rows.add(List.of("analytic", "n=3, m=2", Svg.num(r.num("analytic.n3m2_roughness")), "", "", "", ""));
        h.table(List.of("configuration", "panel (expert)", "roughness", "not represented", "dedicated", "superposed",
                "median held-out loss"), rows, 2);
        h.p("Roughness is the fraction of neighbouring grid cells whose class differs: 0 for a map of clean regions; "
                + "the paper's \"no sharp phase change in MoEs\" predicts a high value. Seeds per cell: "
                + Svg.num(r.num("seeds_per_cell")) + ".");
        ReportPage.listedFigures(h, s);
    }
}
