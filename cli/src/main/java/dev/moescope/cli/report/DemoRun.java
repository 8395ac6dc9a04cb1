package dev.moescope.cli.report;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A demo output directory as the report reads it: the demo's own {@code summary.json} (which stages ran, their
 * command lines, exit codes, timings and output directories, relative to the demo directory so the whole
 * directory can be moved) and each stage's {@code summary.json}.
 */
final class DemoRun {

    /** One stage as recorded by the demo, with its output summary (absent if it wrote none). */
    record Stage(String key, String title, String command, int exitCode, double seconds, Path dir, Doc summary) {

        /** A file in the stage's output directory (null when the stage has no directory). */
        Path file(String name) {
            return dir == null ? null : dir.resolve(name);
        }

        /** Ran and succeeded. */
        boolean ok() {
            return exitCode == 0;
        }
    }

    final Path dir;
    final Doc summary;
    final List<Stage> stages;

    private DemoRun(Path dir, Doc summary, List<Stage> stages) {
        this.dir = dir;
        this.summary = summary;
        this.stages = stages;
    }

    static DemoRun read(Path dir) {
        Doc summary = Doc.read(dir.resolve("summary.json"));
        List<Stage> stages = new ArrayList<>();
        for (Doc s : summary.list("stages")) {
            String out = s.str("out");
            Path stageDir = out == null ? null : dir.resolve(out);
            double code = s.num("exit_code");
            stages.add(new Stage(s.str("key"), s.str("stage"), s.str("command"),
                    Double.isNaN(code) ? -1 : (int) code, s.num("seconds"), stageDir,
                    stageDir == null ? Doc.ABSENT : Doc.read(stageDir.resolve("summary.json"))));
        }
        return new DemoRun(dir, summary, stages);
    }

    /** Reads only the stages' summaries, for the claims computed before the demo's own summary exists. */
    static DemoRun of(Path dir, List<Stage> stages) {
        return new DemoRun(dir, Doc.ABSENT, stages);
    }

    /** The stage recorded under {@code key}, or null when the demo did not run it. */
    Stage stage(String key) {
        for (Stage s : stages) {
            if (key.equals(s.key())) {
                return s;
            }
        }
        return null;
    }

    /** The summary of stage {@code key}, absent if the stage did not run or wrote none. */
    Doc summary(String key) {
        Stage s = stage(key);
        return s == null ? Doc.ABSENT : s.summary();
    }
}
