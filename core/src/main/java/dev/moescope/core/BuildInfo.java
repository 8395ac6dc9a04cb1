package dev.moescope.core;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** What was built: moescope's version, the git commit it was built from, and the native stack's versions. */
public record BuildInfo(String version, String gitCommit, boolean dirty, String djlVersion, String pytorchVersion,
                        String arrowVersion, String onnxRuntimeVersion) {

    private static final BuildInfo CURRENT = load();

    /** The build this code belongs to (read once from resources written by Maven). */
    public static BuildInfo current() {
        return CURRENT;
    }

    /** {@code 0.1.0-SNAPSHOT (a1b2c3d)}, or without commit when built outside git. */
    public String describe() {
        return version + (gitCommit.isEmpty() ? "" : " (" + gitCommit.substring(0, Math.min(10, gitCommit.length()))
                + (dirty ? ", modified" : "") + ")");
    }

    private static BuildInfo load() {
        Properties build = read("build.properties");
        Properties git = read("git.properties");
        return new BuildInfo(
                build.getProperty("version", "unknown"),
                git.getProperty("git.commit.id.full", ""),
                Boolean.parseBoolean(git.getProperty("git.dirty", "false")),
                build.getProperty("djl.version", "unknown"),
                build.getProperty("pytorch.version", "unknown"),
                build.getProperty("arrow.version", "unknown"),
                build.getProperty("onnxruntime.version", "unknown"));
    }

    private static Properties read(String name) {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream(name)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // Build metadata is informative only; a missing file leaves the defaults.
        }
        return p;
    }
}
