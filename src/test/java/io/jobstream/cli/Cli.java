package io.jobstream.cli;

/** The command line as {@code ./jobstream} runs it, for tests in other packages: the exit code, without exiting. */
public final class Cli {
    private Cli() {}

    public static int run(String... args) {
        return Main.commandLine().execute(args);
    }
}
