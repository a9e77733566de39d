package io.jobstream.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ./jobstream COMMAND}: the entry point of the jar. */
@Command(
        name = "jobstream",
        mixinStandardHelpOptions = true,
        version = "jobstream 0.1.0",
        description =
                "Carries Ansible job events from the running job to the people watching it, and measures the lag.",
        subcommands = {
            ConfigCommand.class,
            LagCommand.class,
            CallbackStatsCommand.class,
            LoadCommand.class,
            ReplayCommand.class,
            StatsCommand.class,
            DoctorCommand.class,
            ImportCommand.class,
            RunCommand.class,
            StorageCommand.class,
            CleanupCommand.class
        })
public final class Main {
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    private static String describe(Exception e) {
        if (e instanceof java.net.ConnectException) return "cannot connect to the node (is it running? check --url)";
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        // a tool that cannot reach its node says so in a line, not a stack trace
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (!(e instanceof java.io.IOException) && !(e instanceof IllegalArgumentException)) throw e;
            commandLine.getErr().println("jobstream " + commandLine.getCommandName() + ": " + describe(e));
            return 1;
        });
        cli.addSubcommand("serve", ServeCommand.spec());
        return cli;
    }
}
