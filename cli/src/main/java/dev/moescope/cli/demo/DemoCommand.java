package dev.moescope.cli.demo;

import dev.moescope.cli.CommonOptions;
import dev.moescope.cli.Moescope;
import dev.moescope.cli.doctor.NativeChecks;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.fixtures.Fixtures;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code moescope demo}: runs the main job on the bundled fixtures, offline. Each stage is an ordinary
 * {@code moescope} command line, run in this process, so the demo shows exactly what a user would type. Stages
 * that are not built yet are named as such, never faked.
 */
@Command(name = "demo",
        mixinStandardHelpOptions = true,
        description = {"Run moescope end to end on the bundled fixtures, offline, and say what ran:",
            "toy models (dense vs MoE features per dimension, a phase diagram); the MoE Lens top-k sweep and logit",
            "lens on the fixture MoE; MoE and dense activation stores recorded on the fixture corpus; a routing",
            "analysis; a BatchTopK SAE trained and evaluated on a MoE hook. Every stage writes summary.json under --out."},
        footer = {"", "Example:", "  moescope demo --out demo-run"})
public final class DemoCommand implements Callable<Integer> {

    /** Stages of the full pipeline that do not exist yet; printed so the demo never pretends. */
    static final List<String> NOT_YET_BUILT = List.of(
            "crosscoder on the paired stores (training exists; the diff the demo needs does not yet)", "HTML report");

    /** The hook the SAE is trained on (and the crosscoder will pair): the residual stream after block 2. */
    static final String HOOK = "blocks.2.resid_post";

    @CommandLine.Mixin
    CommonOptions common;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", defaultValue = "moescope-demo", paramLabel = "DIR",
            description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    /** One step of the demo: a title and the moescope arguments it runs. */
    record Stage(String title, List<String> args) {
    }

    List<Stage> stages() {
        String seed = Long.toString(common.seed);
        Path moe = Fixtures.path(Fixtures.MOE_MODEL).resolve(Fixtures.MODEL_FILE);
        // the logits-only export: what users' exports usually look like, so routing is found by graph surgery
        Path moePlain = Fixtures.path(Fixtures.MOE_LOGITS_ONLY_MODEL).resolve(Fixtures.MODEL_FILE);
        Path dense = Fixtures.path(Fixtures.DENSE_MODEL).resolve(Fixtures.MODEL_FILE);
        String tokenizer = Fixtures.path(Fixtures.TOKENIZER).toString();
        String corpus = Fixtures.path(Fixtures.CORPUS).toString();
        return List.of(
                new Stage("toy models: features per dimension, dense vs MoE",
                        List.of("toy", "reproduce", "fig3", "--quick", "--seed", seed, "--out", dir("toy/fig3"))),
                new Stage("toy models: a phase diagram (MoE, E=2, k=1) against the analytic one",
                        List.of("toy", "reproduce", "fig4", "--quick", "--only", "A.E2", "--seed", seed,
                                "--out", dir("toy/fig4"))),
                new Stage("probe: what the graph surgery finds in the fixture MoE",
                        List.of("probe", "inspect", moe.toString())),
                new Stage("probe: MoE Lens top-k sweep and logit lens over all four domains",
                        List.of("probe", "lens", moe.toString(), "--tokenizer", tokenizer, "--corpus", corpus,
                                "--bos", "0", "--seq-len", "128", "--both-variants", "--out", dir("probe/lens"))),
                new Stage("probe: record the MoE's routing and " + HOOK + " into an activation store",
                        List.of("probe", "run", "--model", moePlain.toString(), "--tokenizer", tokenizer, "--corpus",
                                corpus, "--bos", "0", "--seq-len", "128", "--hooks", HOOK, "--out", dir("stores/moe"))),
                new Stage("probe: record the dense twin's " + HOOK + " on the same tokens",
                        List.of("probe", "run", "--model", dense.toString(), "--no-routing", "--tokenizer", tokenizer,
                                "--corpus", corpus, "--bos", "0", "--seq-len", "128", "--hooks", HOOK,
                                "--out", dir("stores/dense"))),
                new Stage("probe: routing analysis of the MoE store (load, domain specialisation, co-activation)",
                        List.of("probe", "analyze", dir("stores/moe"), "--out", dir("probe/analysis"))),
                new Stage("sae: a BatchTopK SAE on the MoE's " + HOOK,
                        List.of("sae", "train", "--store", dir("stores/moe"), "--hook", HOOK, "--latents", "768",
                                "--k", "16", "--batch", "1024", "--steps", "600", "--warmup", "50",
                                "--threshold-start", "200", "--dead-tokens", "200000", "--seed", seed,
                                "--out", dir("sae/moe"))),
                new Stage("sae: evaluate it on held-out documents (FVE, L0, dead latents, top contexts)",
                        List.of("sae", "eval", dir("sae/moe"), "--store", dir("stores/moe"))));
    }

    private String dir(String stage) {
        return out.resolve(stage).toString();
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        Provenance.Builder provenance = Provenance.start("demo").parameter("seed", common.seed);
        List<Map<String, Object>> ran = new ArrayList<>();

        stdout.println("moescope demo: native stack check");
        stdout.println("  " + NativeChecks.pytorch(common.threads));
        stdout.println("  " + NativeChecks.onnxRuntime());
        stdout.println("  " + NativeChecks.tokenizers());

        List<Stage> stages = stages();
        for (int i = 0; i < stages.size(); i++) {
            Stage s = stages.get(i);
            stdout.printf("%nmoescope demo: stage %d/%d, %s%n  $ moescope %s%n", i + 1, stages.size(), s.title(),
                    String.join(" ", s.args()));
            stdout.flush();
            long t0 = System.nanoTime();
            CommandLine cl = Moescope.commandLine().setOut(spec.commandLine().getOut())
                    .setErr(spec.commandLine().getErr());
            int code = cl.execute(s.args().toArray(String[]::new));
            double seconds = (System.nanoTime() - t0) / 1e9;
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("stage", s.title());
            record.put("command", "moescope " + String.join(" ", s.args()));
            record.put("exit_code", code);
            record.put("seconds", Math.round(seconds * 10) / 10.0);
            ran.add(record);
            if (code != 0) {
                stdout.printf("moescope demo: stage %d failed (exit %d); stopping%n", i + 1, code);
                write(provenance, ran);
                return code;
            }
            stdout.printf("  done in %.1f s%n", seconds);
        }
        write(provenance, ran);
        stdout.printf("%nran: native stack check and %d stages; outputs under %s%n", stages.size(),
                out.toAbsolutePath().normalize());
        stdout.println("not yet built, so not run: " + String.join(", ", NOT_YET_BUILT) + ".");
        stdout.flush();
        return 0;
    }

    private void write(Provenance.Builder provenance, List<Map<String, Object>> ran) {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("stages", ran);
        summary.put("not_yet_built", NOT_YET_BUILT);
        summary.put("provenance", provenance.build());
        Json.write(out.resolve("summary.json"), summary);
    }
}
