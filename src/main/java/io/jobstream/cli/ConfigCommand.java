package io.jobstream.cli;

import io.jobstream.config.Setting;
import io.jobstream.config.Settings;
import picocli.CommandLine.Command;

/** {@code config defaults}: prints every setting with its flag, environment variable, default and meaning. */
@Command(name = "config", description = "Show configuration.", subcommands = ConfigCommand.Defaults.class)
final class ConfigCommand {
    @Command(name = "defaults", description = "Print every setting: flag, environment variable, default, meaning.")
    static final class Defaults implements Runnable {
        @Override
        public void run() {
            System.out.printf("%-28s %-34s %-10s %s%n", "FLAG", "ENVIRONMENT", "DEFAULT", "MEANING");
            for (Setting s : Settings.ALL) {
                String def = s.defaultValue().isEmpty() ? "(none)" : s.defaultValue();
                System.out.printf("%-28s %-34s %-10s %s%n", s.flag(), s.env(), def, s.doc());
            }
        }
    }
}
