package dev.moescope.core;

/**
 * Logging is quiet by default (warnings and errors only) and detailed with {@code --verbose}. moescope logs
 * through slf4j; with the slf4j-simple binding the level must be set before the first logger is created,
 * which is why the CLI calls {@link #configure(boolean)} while parsing its options.
 */
public final class Logging {

    private static volatile boolean verbose;

    private Logging() {
    }

    public static void configure(boolean verboseOutput) {
        verbose = verboseOutput;
        String level = verboseOutput ? "debug" : "warn";
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level);
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "false");
        System.setProperty("org.slf4j.simpleLogger.showThreadName", "false");
        System.setProperty("org.slf4j.simpleLogger.showShortLogName", "true");
        // Third-party warnings (DJL probing for a CUDA driver on a CPU machine, the tokenizer's length notice)
        // are noise for a user who did not ask; --verbose shows them.
        System.setProperty("org.slf4j.simpleLogger.log.ai.djl", verboseOutput ? "debug" : "error");
    }

    /** Whether {@code --verbose} was given (error reporting prints stack traces only then). */
    public static boolean verbose() {
        return verbose;
    }
}
