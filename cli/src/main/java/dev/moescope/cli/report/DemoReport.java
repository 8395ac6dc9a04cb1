package dev.moescope.cli.report;

import dev.moescope.core.json.AtomicFiles;

import java.nio.file.Path;
import java.util.List;

/**
 * The research report of a demo run: one self-contained {@code report.html} (inline SVG charts, the stages' PNGs
 * embedded as data URIs, no script or style fetched from anywhere) built from the demo directory's
 * {@code summary.json} files. Sections: what ran, the claims checked, toy models, probe, SAE, crosscoder, and the
 * provenance of every step.
 *
 * <p>Any stage summary may carry {@code "claims": [{"claim","expected","measured","supported"}]} and
 * {@code "figures": [{"file": "x.png", "caption": "..."}]}; the report renders both for every stage, so a new
 * stage shows up without code here.
 */
public final class DemoReport {

    /** Keys under which the demo records its stages; the report looks stages up by them. */
    public static final String TOY_FIG3 = "toy.fig3";
    public static final String TOY_FIG4 = "toy.fig4";
    public static final String PROBE_INSPECT = "probe.inspect";
    public static final String PROBE_LENS = "probe.lens";
    public static final String PROBE_EXPERTS = "probe.experts";
    public static final String STORE_MOE = "store.moe";
    public static final String STORE_DENSE = "store.dense";
    public static final String PROBE_ANALYSIS = "probe.analysis";
    public static final String SAE_TRAIN = "sae.train";
    public static final String SAE_EVAL = "sae.eval";
    public static final String CROSSCODER_TRAIN = "crosscoder.train";
    public static final String CROSSCODER_DIFF = "crosscoder.diff";

    /** The report's file name inside the demo directory. */
    public static final String FILE = "report.html";

    /** The {@code id}s of the report's sections, in order (the browser test checks each is there). */
    public static final List<String> SECTIONS =
            List.of("overview", "claims", "toy", "probe", "sae", "crosscoder", "provenance");

    private DemoReport() {
    }

    /** Every claim the report shows: the demo's own checks, then each stage's {@code claims}. */
    public static List<Claim> claims(Path demoDir) {
        return ReportPage.allClaims(DemoRun.read(demoDir));
    }

    /**
     * Writes {@code demoDir/report.html} (atomically) from the demo's outputs and returns its path.
     *
     * @param tokenizer the tokenizer the stores were recorded with, to show contexts as text (may be null)
     */
    public static Path write(Path demoDir, Path tokenizer) {
        DemoRun run = DemoRun.read(demoDir);
        String html;
        try (TokenText text = TokenText.open(tokenizer)) {
            html = ReportPage.render(run, text);
        }
        Path file = demoDir.resolve(FILE);
        AtomicFiles.writeString(file, html);
        return file;
    }
}
