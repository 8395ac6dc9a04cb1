package dev.moescope.core.error;

/** Process exit codes used by every moescope command. */
public enum ExitCode {
    /** The command did what was asked. */
    OK(0),
    /** Something went wrong that is not the user's input: a bug, an I/O failure, a native library error. */
    FAILURE(1),
    /** The command line itself is wrong: unknown command, missing or invalid option values. */
    USAGE(2),
    /** An input file or data set is missing, malformed or inconsistent. */
    BAD_INPUT(3);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    /** The numeric process exit status. */
    public int code() {
        return code;
    }
}
