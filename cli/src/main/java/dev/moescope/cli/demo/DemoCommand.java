package dev.moescope.cli.demo;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.moescope.cli.CommonOptions;
import dev.moescope.cli.Moescope;
import dev.moescope.cli.doctor.NativeChecks;
import dev.moescope.cli.report.Claim;
import dev.moescope.cli.report.DemoReport;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.io.FileTrees;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.fixtures.Fixtures;
import dev.moescope.toy.experiments.ExperimentContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code moescope demo}: runs the main job on the bundled fixtures, offline, and writes the research report. Each
 * stage is an ordinary {@code moescope} command line, run in this process, so the demo shows exactly what a user
 * would type. Stages that are not built yet are named as such, never faked.
 */
@Command(name = "demo",
        mixinStandardHelpOptions = true,
        // one element per paragraph: picocli wraps each to the help width
        description = {"Run moescope end to end on the bundled fixtures, offline, and write a research report.",
            "Stages: toy models (dense vs MoE features per dimension, a phase diagram); graph inspection, the MoE "
                + "Lens top-k sweep and logit lens of the fixture MoE; MoE and dense activation stores recorded on "
                + "the fixture corpus; a routing analysis; a BatchTopK SAE trained and evaluated on a MoE hook; a "
                + "crosscoder on the paired MoE/dense hook (and its diff). Each is an ordinary moescope command, "
                + "printed before it runs; each writes summary.json under --out.",
            "OUT/report.html is one self-contained page with the plots, the claims checked and the provenance of "
                + "every step. The default run takes a few minutes on 2 cores; --full about 1.5 hours."},
        footer = {"", "Example:",
            "  moescope demo --out demo-run                # then open demo-run/report.html",
            "  moescope demo --out demo-run --report-only  # rebuild the report only",
            "  moescope demo --out demo-run --full --resume  # continue a stopped run"})
public final class DemoCommand implements Callable<Integer> {

    /** The hook the SAE is trained on and the crosscoder pairs: the residual stream after block 2. */
    static final String HOOK = "blocks.2.resid_post";

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", defaultValue = "moescope-demo", paramLabel = "DIR",
            description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--full",
            description = {"The same stages at full size: toy Fig 3 at the paper's settings (n=100, 30 densities, "
                + "10,000 steps) and the demo's phase diagram (E=2, k=1) on the paper's 39x58 grid with 10 seeds x "
                + "5000 steps per cell, and 5x longer SAE and crosscoder training. About 1.5 hours on a 2-core "
                + "CPU. All eight Fig 4 diagrams: moescope toy reproduce fig4."})
    boolean full;

    /** A seconds-long run on a slice of the fixtures, so tests can run the real pipeline and its report. */
    @Option(names = "--smoke", hidden = true,
            description = "Tiny run for tests: first documents only, a few hundred steps.")
    boolean smoke;

    @Option(names = "--resume",
            description = {"Continue an interrupted or failed run in --out: the leading stages that finished there "
                + "with the same command are kept, and the demo runs from the first one that did not."})
    boolean resume;

    @Option(names = "--report-only",
            description = "Rebuild DIR/report.html from an existing demo output; runs no stage.")
    boolean reportOnly;

    /** One step of the demo: a key the report finds it by, a title, the moescope arguments, its output dir. */
    record Stage(String key, String title, List<String> args, String out) {
    }

    List<Stage> stages() {
        String seed = Long.toString(common.seed);
        Path moe = Fixtures.path(Fixtures.MOE_MODEL).resolve(Fixtures.MODEL_FILE);
        // the logits-only export: what users' exports usually look like, so routing is found by graph surgery
        Path moePlain = Fixtures.path(Fixtures.MOE_LOGITS_ONLY_MODEL).resolve(Fixtures.MODEL_FILE);
        Path dense = Fixtures.path(Fixtures.DENSE_MODEL).resolve(Fixtures.MODEL_FILE);
        String tokenizer = Fixtures.path(Fixtures.TOKENIZER).toString();
        String corpus = Fixtures.path(Fixtures.CORPUS).toString();
        String trainSteps = full ? "3000" : smoke ? "60" : "600";
        // --smoke: the first documents only (both stores the same slice, so they still pair)
        List<String> slice = smoke ? List.of("--max-docs", "16") : List.of();
        List<Stage> stages = new ArrayList<>();
        stages.add(new Stage(DemoReport.TOY_FIG3, "toy models: features per dimension, dense vs MoE",
                concat(List.of("toy", "reproduce", "fig3"), full ? List.of() : List.of("--quick"),
                        smoke ? List.of("--steps", "300") : List.of(), List.of("--seed", seed, "--out", dir("toy/fig3"))),
                "toy/fig3"));
        stages.add(new Stage(DemoReport.TOY_FIG4, full
                ? "toy models: a phase diagram (MoE, E=2, k=1) against the analytic one, paper settings"
                : "toy models: a phase diagram (MoE, E=2, k=1) against the analytic one",
                concat(List.of("toy", "reproduce", "fig4"), full ? List.of() : List.of("--quick"),
                        List.of("--only", "A.E2"),
                        smoke ? List.of("--steps", "300") : List.of(), List.of("--seed", seed, "--out", dir("toy/fig4"))),
                "toy/fig4"));
        stages.add(new Stage(DemoReport.PROBE_INSPECT, "probe: what the graph surgery finds in the fixture MoE",
                List.of("probe", "inspect", moe.toString(), "--out", dir("probe/inspect")), "probe/inspect"));
        stages.add(new Stage(DemoReport.PROBE_LENS, "probe: MoE Lens top-k sweep and logit lens over all four domains",
                concat(List.of("probe", "lens", moe.toString(), "--tokenizer", tokenizer, "--corpus", corpus,
                        "--bos", "0", "--seq-len", "128", "--both-variants"), slice, List.of("--out", dir("probe/lens"))),
                "probe/lens"));
        stages.add(new Stage(DemoReport.PROBE_EXPERTS,
                "probe: single-expert approximation and per-expert logit lens (experts recomputed in Java)",
                concat(List.of("probe", "experts", moe.toString(), "--tokenizer", tokenizer, "--corpus", corpus,
                        "--bos", "0", "--seq-len", "128"), slice, List.of("--out", dir("probe/experts"))),
                "probe/experts"));
        stages.add(new Stage(DemoReport.STORE_MOE, "probe: record the MoE's routing and " + HOOK
                + " into an activation store",
                concat(List.of("probe", "run", "--model", moePlain.toString(), "--tokenizer", tokenizer, "--corpus",
                        corpus, "--bos", "0", "--seq-len", "128", "--hooks", HOOK), slice,
                        List.of("--out", dir("stores/moe"))),
                "stores/moe"));
        stages.add(new Stage(DemoReport.STORE_DENSE, "probe: record the dense twin's " + HOOK + " on the same tokens",
                concat(List.of("probe", "run", "--model", dense.toString(), "--no-routing", "--tokenizer", tokenizer,
                        "--corpus", corpus, "--bos", "0", "--seq-len", "128", "--hooks", HOOK), slice,
                        List.of("--out", dir("stores/dense"))),
                "stores/dense"));
        stages.add(new Stage(DemoReport.PROBE_ANALYSIS,
                "probe: routing analysis of the MoE store (load, domain specialisation, co-activation)",
                List.of("probe", "analyze", dir("stores/moe"), "--out", dir("probe/analysis")), "probe/analysis"));
        stages.add(new Stage(DemoReport.SAE_TRAIN, "sae: a BatchTopK SAE on the MoE's " + HOOK,
                List.of("sae", "train", "--store", dir("stores/moe"), "--hook", HOOK, "--latents", "768",
                        "--k", "16", "--batch", "1024", "--steps", trainSteps, "--warmup", smoke ? "10" : "50",
                        "--threshold-start", smoke ? "20" : "200", "--dead-tokens", "200000", "--seed", seed,
                        "--out", dir("sae/moe")),
                "sae/moe"));
        stages.add(new Stage(DemoReport.SAE_EVAL,
                "sae: evaluate it on held-out documents (FVE, L0, dead latents, CE loss, top contexts)",
                List.of("sae", "eval", dir("sae/moe"), "--store", dir("stores/moe"), "--out", dir("sae/moe/eval")),
                "sae/moe/eval"));
        stages.add(new Stage(DemoReport.CROSSCODER_TRAIN,
                "crosscoder: one dictionary over the MoE's and the dense twin's " + HOOK,
                List.of("crosscoder", "train", "--store", dir("stores/moe"), "--store", dir("stores/dense"),
                        "--hook", HOOK, "--hook", HOOK, "--latents", "768", "--k", "16", "--shared", "32",
                        "--batch", "1024", "--steps", trainSteps, "--seed", seed, "--out", dir("crosscoder/moe-dense")),
                "crosscoder/moe-dense"));
        stages.add(new Stage(DemoReport.CROSSCODER_DIFF,
                "crosscoder: diff the two models' features (shared vs MoE- or dense-specific)",
                List.of("crosscoder", "diff", dir("crosscoder/moe-dense"), "--out", dir("crosscoder/diff")),
                "crosscoder/diff"));
        return stages.stream().map(this::withSharedOptions).toList();
    }

    @SafeVarargs
    private static List<String> concat(List<String>... parts) {
        List<String> all = new ArrayList<>();
        for (List<String> p : parts) {
            all.addAll(p);
        }
        return all;
    }


    /** Passes --verbose, --no-progress and --threads on to every stage when the demo was given them. */
    private Stage withSharedOptions(Stage s) {
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        List<String> args = new ArrayList<>(s.args());
        if (parsed != null && parsed.hasMatchedOption("--verbose")) {
            args.add("--verbose");
        }
        if (parsed != null && parsed.hasMatchedOption("--no-progress")) {
            args.add("--no-progress");
        }
        if (parsed != null && parsed.hasMatchedOption("--threads")) {
            args.addAll(List.of("--threads", Integer.toString(common.threads)));
        }
        return new Stage(s.key(), s.title(), List.copyOf(args), s.out());
    }

    private String dir(String stage) {
        return out.resolve(stage).toString();
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        if (full && smoke) {
            throw MoescopeException.usage("--full and --smoke contradict each other; give one");
        }
        if (reportOnly) {
            if (!Files.isRegularFile(out.resolve("summary.json"))) {
                throw MoescopeException.badInput(out.resolve("summary.json"),
                        "no demo output here to build a report from; run 'moescope demo --out " + out + "' first");
            }
            JsonObject previous = Json.read(out.resolve("summary.json"), JsonObject.class);
            if (previous == null || !isDemoSummary(previous)) {
                throw MoescopeException.badInput(out.resolve("summary.json"),
                        "not a moescope demo summary (another command's output); run 'moescope demo --out DIR' "
                                + "and pass that DIR");
            }
            report(stdout);
            return 0;
        }
        List<Stage> stages = stages();
        List<Map<String, Object>> ran = new ArrayList<>();
        boolean continueStage = false; // the first stage to run picks up its own checkpoints (toy reproduce --resume)
        if (resume) {
            ran.addAll(finishedStages(out, stages));
            JsonObject previous = Json.read(out.resolve("summary.json"), JsonObject.class);
            continueStage = interruptedWithCheckpoints(out, previous, stages, ran.size());
            deleteStageOutputs(out, previous, ran.size() + (continueStage ? 1 : 0));
            stdout.printf("moescope demo: resuming in %s, keeping %d finished stage(s) of %d%s%n",
                    out.toAbsolutePath().normalize(), ran.size(), stages.size(),
                    continueStage ? " and the training batches stage " + (ran.size() + 1) + " finished" : "");
        } else if (clearPreviousRun(out)) {
            stdout.println("moescope demo: replacing the previous demo run in " + out.toAbsolutePath().normalize());
        }
        Provenance.Builder provenance = Provenance.start("demo").parameter("seed", common.seed)
                .parameter("mode", full ? "full" : smoke ? "smoke" : "quick").parameter("out", out)
                .parameter("stages_kept_from_previous_run", ran.size());

        stdout.println("moescope demo: native stack check");
        stdout.println("  " + NativeChecks.pytorch(common.threads));
        stdout.println("  " + NativeChecks.onnxRuntime());
        stdout.println("  " + NativeChecks.tokenizers());
        if (full) {
            stdout.println("moescope demo --full: paper-size runs of the same stages; about 1.5 hours on a 2-core CPU.");
        }

        int code = 0;
        int firstToRun = ran.size();
        for (int i = firstToRun; i < stages.size() && code == 0; i++) {
            Stage s = stages.get(i);
            stdout.printf("%nmoescope demo: stage %d/%d, %s%n  $ moescope %s%n", i + 1, stages.size(), s.title(),
                    String.join(" ", s.args()));
            stdout.flush();
            Map<String, Object> record = record(s);
            record.put("exit_code", null); // running: an interrupted run leaves this, and a rerun clears the stage
            ran.add(record);
            write(provenance, ran, List.of());
            long t0 = System.nanoTime();
            CommandLine cl = Moescope.commandLine().setOut(spec.commandLine().getOut())
                    .setErr(spec.commandLine().getErr());
            List<String> args = continueStage && i == firstToRun ? concat(s.args(), List.of("--resume")) : s.args();
            code = cl.execute(args.toArray(String[]::new));
            double seconds = (System.nanoTime() - t0) / 1e9;
            record.put("exit_code", code);
            record.put("seconds", Math.round(seconds * 10) / 10.0);
            // written after every stage, so an interrupted run still says what ran
            write(provenance, ran, List.of());
            if (code != 0) {
                stdout.printf("moescope demo: stage %d failed (exit %d); stopping%n", i + 1, code);
            } else {
                stdout.printf("  done in %.1f s%n", seconds);
            }
        }
        List<Claim> claims = DemoReport.claims(out);
        write(provenance, ran, claims);
        if (code == 0) {
            long kept = ran.stream().filter(r -> Boolean.TRUE.equals(r.get("kept_from_previous_run"))).count();
            stdout.printf("%nran: native stack check and %d stages%s; outputs under %s%n", stages.size() - kept,
                    kept > 0 ? " (" + kept + " kept from the previous run)" : "", out.toAbsolutePath().normalize());
            long supported = claims.stream().filter(c -> Boolean.TRUE.equals(c.supported())).count();
            stdout.printf("claims checked: %d, supported %d (see the report)%n", claims.size(), supported);
        }
        report(stdout);
        return code;
    }

    /** Whether a summary.json was written by the demo (it lists the stages and the report), not by one stage. */
    static boolean isDemoSummary(JsonObject summary) {
        return summary.has("report") && summary.has("stages");
    }

    /**
     * Makes {@code out} ready for a new run, so running the demo twice just works: absent or empty is ready; a
     * previous demo run there has its stage directories, summary and report removed (only those its summary.json
     * lists, inside {@code out}); anything else is refused rather than touched. Returns whether a run was removed.
     */
    static boolean clearPreviousRun(Path out) throws IOException {
        if (!Files.exists(out)) {
            return false;
        }
        if (!Files.isDirectory(out)) {
            throw MoescopeException.badInput(out, "not a directory; choose another --out");
        }
        try (Stream<Path> entries = Files.list(out)) {
            if (entries.findAny().isEmpty()) {
                return false;
            }
        }
        Path summary = out.resolve("summary.json");
        JsonObject previous = Files.isRegularFile(summary) ? Json.read(summary, JsonObject.class) : null;
        if (previous == null || !isDemoSummary(previous)) {
            throw MoescopeException.badInput(out, "not empty and not a moescope demo output; choose another --out");
        }
        deleteStageOutputs(out, previous, 0);
        Files.delete(summary);
        return true;
    }

    /**
     * For --resume: the records of the leading stages of the previous run in {@code out} that can be kept, i.e.
     * that exited 0 with exactly the command this run would give them and still have their summary.json. Stops at
     * the first stage that cannot, since later stages read earlier stages' outputs.
     */
    static List<Map<String, Object>> finishedStages(Path out, List<Stage> stages) {
        Path summary = out.resolve("summary.json");
        if (!Files.isRegularFile(summary)) {
            throw MoescopeException.badInput(out, "no demo run here to resume; run without --resume");
        }
        JsonObject previous = Json.read(summary, JsonObject.class);
        if (previous == null || !isDemoSummary(previous)) {
            throw MoescopeException.badInput(summary, "not a moescope demo summary; nothing to resume");
        }
        List<Map<String, Object>> kept = new ArrayList<>();
        var records = previous.getAsJsonArray("stages");
        for (int i = 0; i < Math.min(records.size(), stages.size()); i++) {
            JsonObject r = records.get(i).getAsJsonObject();
            Stage s = stages.get(i);
            String command = command(s);
            boolean finished = r.has("exit_code") && !r.get("exit_code").isJsonNull()
                    && r.get("exit_code").getAsInt() == 0;
            if (!finished || !command.equals(r.get("command").getAsString())
                    || !Files.isRegularFile(out.resolve(s.out()).resolve("summary.json"))) {
                break;
            }
            Map<String, Object> record = record(s);
            record.put("exit_code", 0);
            record.put("seconds", r.has("seconds") ? r.get("seconds").getAsDouble() : null);
            record.put("kept_from_previous_run", true);
            kept.add(record);
        }
        return kept;
    }

    /**
     * Whether stage {@code next}, the first one to run again, was interrupted with the same command after keeping
     * training checkpoints (a toy reproduction's {@code checkpoints} directory, and no summary yet): it then
     * continues with {@code --resume} instead of starting over.
     */
    static boolean interruptedWithCheckpoints(Path out, JsonObject previous, List<Stage> stages, int next) {
        var records = previous.getAsJsonArray("stages");
        if (next >= stages.size() || next >= records.size()) {
            return false;
        }
        Stage s = stages.get(next);
        Path dir = out.resolve(s.out());
        return command(s).equals(records.get(next).getAsJsonObject().get("command").getAsString())
                && s.args().contains("reproduce")
                && Files.isDirectory(dir.resolve(ExperimentContext.CHECKPOINTS))
                && !Files.exists(dir.resolve("summary.json"));
    }

    /** The command line a stage runs, as its summary records it. */
    private static String command(Stage s) {
        return "moescope " + String.join(" ", s.args());
    }

    /** A stage's record in the demo's summary.json, before its outcome is known. */
    private static Map<String, Object> record(Stage s) {
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("key", s.key());
        record.put("stage", s.title());
        record.put("command", command(s));
        record.put("out", s.out());
        return record;
    }

    /**
     * Removes the previous run's report and the output directories of its stages from {@code first} on: only those
     * its summary lists, and only inside {@code out}.
     */
    private static void deleteStageOutputs(Path out, JsonObject previous, int first) throws IOException {
        Path root = out.toAbsolutePath().normalize();
        var records = previous.getAsJsonArray("stages");
        for (int i = first; i < records.size(); i++) {
            JsonElement dir = records.get(i).getAsJsonObject().get("out");
            Path stageDir = dir == null || dir.isJsonNull() ? null : root.resolve(dir.getAsString()).normalize();
            if (stageDir != null && stageDir.startsWith(root) && !stageDir.equals(root)) {
                FileTrees.delete(stageDir);
            }
        }
        Files.deleteIfExists(out.resolve(DemoReport.FILE));
    }

    private void report(PrintWriter stdout) {
        stdout.println("moescope demo: writing the report");
        stdout.flush();
        Path report = DemoReport.write(out, Fixtures.path(Fixtures.TOKENIZER));
        stdout.println("report: " + report.toAbsolutePath().normalize());
        stdout.flush();
    }

    private void write(Provenance.Builder provenance, List<Map<String, Object>> ran, List<Claim> claims) {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("mode", full ? "full" : smoke ? "smoke" : "quick");
        summary.put("stages", ran);
        summary.put("claims", claims);
        summary.put("report", DemoReport.FILE);
        summary.put("provenance", provenance.build());
        Json.write(out.resolve("summary.json"), summary);
    }
}
