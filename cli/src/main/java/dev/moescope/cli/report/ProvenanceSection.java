package dev.moescope.cli.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Section 7: provenance of every step, read from each stage's {@code summary.json}: the command line, moescope
 * version and git commit, seed and parameters, the SHA-256 of every input, start and finish times, and the
 * environment (JVM, OS, cores, native library versions).
 */
final class ProvenanceSection {

    private ProvenanceSection() {
    }

    static void render(Html h, DemoRun run) {
        h.raw("<section id=\"provenance\">").h(2, null, "7. Provenance");
        h.p("Everything needed to rerun or audit a stage: paste its command line to reproduce it. Inputs are "
                + "identified by SHA-256 (a directory's hash covers its files).");
        Doc demo = run.summary.get("provenance");
        if (demo.present()) {
            List<List<String>> env = new ArrayList<>();
            for (String k : demo.keys("environment")) {
                env.add(List.of(k, ReportPage.nz(demo.str("environment." + k))));
            }
            env.add(List.of("moescope", ReportPage.nz(demo.str("version")) + " at commit "
                    + ReportPage.nz(demo.str("gitCommit"))));
            env.add(List.of("seed", ReportPage.nz(demo.str("parameters.seed"))));
            h.h(3, null, "Environment");
            h.table(List.of("component", "version"), env, 99);
        }
        for (int i = 0; i < run.stages.size(); i++) {
            DemoRun.Stage s = run.stages.get(i);
            h.h(3, null, (i + 1) + ". " + ReportPage.nz(s.title()));
            h.raw("<code class=\"cmd\">$ ").text(ReportPage.nz(s.command())).raw("</code>");
            Doc p = s.summary().get("provenance");
            List<String> facts = new ArrayList<>();
            facts.add(s.ok() ? "exit 0" : "exit " + s.exitCode());
            facts.add(String.format(Locale.ROOT, "%.1f s", s.seconds()));
            if (p.present()) {
                facts.add("operation \"" + ReportPage.nz(p.str("operation")) + "\"");
                facts.add("moescope " + ReportPage.nz(p.str("version")) + " @ " + ReportPage.abbrev(p.str("gitCommit")));
                if (p.str("parameters.seed") != null) {
                    facts.add("seed " + p.str("parameters.seed"));
                }
                facts.add("started " + ReportPage.nz(p.str("started")));
                facts.add("finished " + ReportPage.nz(p.str("finished")));
            } else {
                facts.add("no provenance recorded (the stage writes no summary.json)");
            }
            h.p(String.join(" · ", facts));
            List<List<String>> inputs = new ArrayList<>();
            for (Doc in : p.list("inputs")) {
                inputs.add(List.of(ReportPage.nz(in.str("path")), ReportPage.nz(in.str("sha256")),
                        Double.isNaN(in.num("bytes")) ? "" : String.format(Locale.ROOT, "%,.0f", in.num("bytes"))));
            }
            if (!inputs.isEmpty()) {
                h.table(List.of("input", "SHA-256", "bytes"), inputs, 2);
            }
            List<String> params = p.keys("parameters");
            if (!params.isEmpty()) {
                List<List<String>> rows = new ArrayList<>();
                for (String k : params) {
                    rows.add(List.of(k, ReportPage.nz(p.str("parameters." + k))));
                }
                h.raw("<details><summary>").text("parameters (" + params.size() + ")").raw("</summary>");
                h.table(List.of("parameter", "value"), rows, 99);
                h.raw("</details>");
            }
        }
        h.raw("</section>\n");
    }
}
