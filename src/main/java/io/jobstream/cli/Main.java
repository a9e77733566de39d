package io.jobstream.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ./jobstream COMMAND}: the entry point of the jar. */
@Command(name = "jobstream", mixinStandardHelpOptions = true, version = "jobstream 0.1.0",
        description = "Carries Ansible job events from the running job to the people watching it, and measures the lag.",
        subcommands = {ConfigCommand.class, RunCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.addSubcommand("serve", ServeCommand.spec());
        return cli;
    }
}
