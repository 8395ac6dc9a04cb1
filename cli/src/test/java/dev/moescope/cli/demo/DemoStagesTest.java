package dev.moescope.cli.demo;

import dev.moescope.cli.Moescope;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every stage of every demo size is a command line moescope accepts, so {@code --full} (hours to run, never run
 * by the tests) cannot rot unnoticed; the sizes differ where they should; shared options reach every stage.
 */
class DemoStagesTest {

    private static List<DemoCommand.Stage> stages(String... extra) {
        List<String> args = new ArrayList<>(List.of("demo", "--out", "demo-out"));
        args.addAll(List.of(extra));
        CommandLine cl = Moescope.commandLine();
        CommandLine.ParseResult parsed = cl.parseArgs(args.toArray(String[]::new));
        DemoCommand demo = parsed.subcommand().commandSpec().commandLine().getCommand();
        return demo.stages();
    }

    @Test
    void everyStageOfEverySizeParses() {
        for (String[] size : new String[][] {{}, {"--smoke"}, {"--full"}}) {
            List<DemoCommand.Stage> stages = stages(size);
            assertTrue(stages.size() >= 10, "stages: " + stages.size());
            assertEquals(stages.size(), new HashSet<>(stages.stream().map(DemoCommand.Stage::key).toList()).size());
            assertEquals(stages.size(), new HashSet<>(stages.stream().map(DemoCommand.Stage::out).toList()).size());
            for (DemoCommand.Stage s : stages) {
                CommandLine.ParseResult p = Moescope.commandLine().parseArgs(s.args().toArray(String[]::new));
                assertTrue(p.hasSubcommand(), s.args().toString());
                assertTrue(String.join(" ", s.args()).contains("demo-out/" + s.out()) || s.out() == null,
                        s.key() + " writes outside its recorded directory: " + s.args());
            }
        }
    }

    @Test
    void fullRunsThePaperSettingsAndTheDefaultDoesNot() {
        String quick = String.join(" ", stages().get(1).args());
        String full = String.join(" ", stages("--full").get(1).args());
        assertTrue(quick.contains("--quick") && quick.contains("--only A.E2"), quick);
        // the same diagram at the paper's grid, seeds and steps
        assertTrue(full.contains("--only A.E2"), full);
        assertFalse(full.contains("--quick") || full.contains("--steps") || full.contains("--seeds"), full);
        String fig3 = String.join(" ", stages("--full").get(0).args());
        assertFalse(fig3.contains("--quick") || fig3.contains("--steps"), fig3);
    }

    @Test
    void sharedOptionsReachEveryStage() {
        for (DemoCommand.Stage s : stages("--verbose", "--no-progress", "--threads", "2")) {
            String line = String.join(" ", s.args());
            assertTrue(line.contains("--verbose") && line.contains("--no-progress") && line.contains("--threads 2"),
                    line);
        }
        for (DemoCommand.Stage s : stages()) {
            assertFalse(s.args().contains("--verbose"), s.args().toString());
        }
    }

    @Test
    void theCrosscoderDiffReadsTheTrainedRunAndTheExpertProbeRunsOnTheMoe() {
        List<DemoCommand.Stage> all = stages();
        int train = indexOf(all, "crosscoder", "train");
        int diff = indexOf(all, "crosscoder", "diff");
        assertTrue(train >= 0 && diff > train, "diff runs after train");
        String run = all.get(train).args().get(all.get(train).args().indexOf("--out") + 1);
        assertEquals(run, all.get(diff).args().get(2), "diff reads the run train wrote");
        assertTrue(indexOf(all, "probe", "experts") >= 0);
    }

    /**
     * --resume keeps the leading stages that finished with the same command and still have their summary, and
     * nothing after the first that did not (later stages read earlier ones' outputs).
     */
    @Test
    void resumeKeepsOnlyTheFinishedPrefix(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws java.io.IOException {
        java.nio.file.Path out = dir.resolve("demo-out");
        List<DemoCommand.Stage> all = stagesIn(out);
        List<java.util.Map<String, Object>> records = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            DemoCommand.Stage s = all.get(i);
            java.util.Map<String, Object> r = record(s);
            // stages 0-2 finished; 3 was interrupted (exit_code null); 4 "finished" after it (cannot be trusted)
            r.put("exit_code", i <= 2 || i == 4 ? 0 : null);
            records.add(r);
            if (i <= 4) {
                java.nio.file.Files.createDirectories(out.resolve(s.out()));
                java.nio.file.Files.writeString(out.resolve(s.out()).resolve("summary.json"), "{}");
            }
        }
        java.nio.file.Path summary = out.resolve("summary.json");
        dev.moescope.core.json.Json.write(summary, java.util.Map.of("stages", records, "report", "report.html"));
        assertEquals(3, DemoCommand.finishedStages(out, all).size());

        // a stage whose summary.json is gone is run again, and so is everything after it
        java.nio.file.Files.delete(out.resolve(all.get(1).out()).resolve("summary.json"));
        assertEquals(1, DemoCommand.finishedStages(out, all).size());

        // another seed changes every command: nothing is kept
        assertEquals(0, DemoCommand.finishedStages(out, stagesIn(out, "--seed", "7")).size());
    }

    @Test
    void resumeContinuesAnInterruptedToyStageFromItsCheckpoints(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws java.io.IOException {
        java.nio.file.Path out = dir.resolve("demo-out");
        List<DemoCommand.Stage> all = stagesIn(out);
        List<java.util.Map<String, Object>> records = new ArrayList<>();
        for (DemoCommand.Stage s : all) {
            records.add(record(s));
        }
        records.get(0).put("exit_code", null); // stage 1 (toy fig3) was interrupted after some training batches
        com.google.gson.JsonObject previous = dev.moescope.core.json.Json.gson().toJsonTree(
                java.util.Map.of("stages", records, "report", "report.html")).getAsJsonObject();
        java.nio.file.Path stage = out.resolve(all.get(0).out());
        assertFalse(DemoCommand.interruptedWithCheckpoints(out, previous, all, 0), "no checkpoints yet");
        java.nio.file.Files.createDirectories(stage.resolve("checkpoints"));
        assertTrue(DemoCommand.interruptedWithCheckpoints(out, previous, all, 0));
        // another seed is another run: start over
        assertFalse(DemoCommand.interruptedWithCheckpoints(out, previous, stagesIn(out, "--seed", "7"), 0));
        // the stage's summary was written: it finished, nothing to continue
        java.nio.file.Files.writeString(stage.resolve("summary.json"), "{}");
        assertFalse(DemoCommand.interruptedWithCheckpoints(out, previous, all, 0));
        // only toy reproductions keep checkpoints; a probe stage's directory is never continued
        int probe = indexOf(all, "probe", "inspect");
        java.nio.file.Files.createDirectories(out.resolve(all.get(probe).out()).resolve("checkpoints"));
        assertFalse(DemoCommand.interruptedWithCheckpoints(out, previous, all, probe));
    }

    /** A stage's record as the demo's summary.json holds it, without its outcome. */
    private static java.util.Map<String, Object> record(DemoCommand.Stage s) {
        java.util.Map<String, Object> r = new java.util.LinkedHashMap<>();
        r.put("key", s.key());
        r.put("command", "moescope " + String.join(" ", s.args()));
        r.put("out", s.out());
        return r;
    }

    private static List<DemoCommand.Stage> stagesIn(java.nio.file.Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("demo", "--out", out.toString()));
        args.addAll(List.of(extra));
        CommandLine.ParseResult parsed = Moescope.commandLine().parseArgs(args.toArray(String[]::new));
        DemoCommand demo = parsed.subcommand().commandSpec().commandLine().getCommand();
        return demo.stages();
    }

    private static int indexOf(List<DemoCommand.Stage> stages, String group, String verb) {
        for (int i = 0; i < stages.size(); i++) {
            List<String> a = stages.get(i).args();
            if (a.size() > 1 && a.get(0).equals(group) && a.get(1).equals(verb)) {
                return i;
            }
        }
        return -1;
    }
}
