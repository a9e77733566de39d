package io.jobstream.cli;

import io.jobstream.config.Config;
import io.jobstream.config.ConfigException;
import io.jobstream.config.ConfigLoader;
import io.jobstream.config.Setting;
import io.jobstream.config.Settings;
import io.jobstream.server.DataDirLock;
import io.jobstream.server.Server;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code serve}: runs one node until Ctrl-C. Its flags are generated from {@link Settings}, so every setting has
 * a flag, an environment variable and a default without a second list to keep in step.
 */
final class ServeCommand {
    private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

    private ServeCommand() {}

    static CommandSpec spec() {
        CommandSpec[] self = new CommandSpec[1];
        CommandSpec spec = CommandSpec.wrapWithoutInspection((Callable<Integer>) () -> run(self[0]));
        self[0] = spec;
        spec.name("serve").mixinStandardHelpOptions(true);
        spec.usageMessage().description("Run a jobstream node (embedded PostgreSQL unless --database-url is given).");
        for (Setting s : Settings.ALL) {
            OptionSpec.Builder o = OptionSpec.builder(s.flag())
                    .type(String.class)
                    .description(s.doc() + " Default: " + (s.defaultValue().isEmpty() ? "(none)" : s.defaultValue())
                            + ". Env: " + s.env() + ".");
            if (Settings.isSwitch(s)) o.arity("0..1").fallbackValue("true").paramLabel("[true|false]");
            else if (Settings.isRepeatable(s))
                o.type(List.class).auxiliaryTypes(String.class).paramLabel("<regex>");
            else o.paramLabel("<" + s.key().replaceAll(".*\\.", "") + ">");
            spec.addOption(o.build());
        }
        return spec;
    }

    private static int run(CommandSpec spec) {
        Map<String, String> flags = new HashMap<>();
        for (Setting s : Settings.ALL) {
            OptionSpec o = spec.findOption(s.flag());
            if (o.getValue() instanceof List<?> values) {
                if (!values.isEmpty())
                    flags.put(
                            s.key(),
                            String.join(
                                    "\n", values.stream().map(String::valueOf).toList()));
            } else if (o.getValue() != null) {
                flags.put(s.key(), o.getValue());
            }
        }
        Config config;
        try {
            config = ConfigLoader.load(System.getenv(), flags);
        } catch (ConfigException e) {
            System.err.println("jobstream: invalid configuration:");
            e.problems().forEach(p -> System.err.println("  " + p));
            return 2;
        }
        Server server = new Server(config, Clock.systemUTC());
        CountDownLatch stopped = new CountDownLatch(1);
        Thread shutdown = new Thread(
                () -> {
                    System.err.println("jobstream: stopping (committing queued events)...");
                    server.close();
                    stopped.countDown();
                },
                "jobstream-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdown);
        try {
            server.start();
        } catch (DataDirLock.InUse e) {
            Runtime.getRuntime().removeShutdownHook(shutdown); // nothing started, nothing to stop
            System.err.println("jobstream serve: " + e.getMessage());
            return 1;
        } catch (ConfigException e) { // found only by starting: a cluster node name in use
            stopAfterFailedStart(server, shutdown);
            System.err.println("jobstream serve: cannot start:");
            e.problems().forEach(p -> System.err.println("  " + p));
            return 2;
        } catch (RuntimeException e) {
            stopAfterFailedStart(server, shutdown);
            log.debug("start failed", e); // the trace, for a developer; a user reads the line below
            System.err.println("jobstream serve: cannot start: " + StartFailure.describe(e, config.http()));
            return 1;
        }
        System.out.println("jobstream is running: open " + server.uri() + " (Ctrl-C stops it)");
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** Stops what did start (nothing was accepted yet, or it is committed by the stop) without the "stopping" line. */
    private static void stopAfterFailedStart(Server server, Thread shutdown) {
        Runtime.getRuntime().removeShutdownHook(shutdown);
        try {
            server.close();
        } catch (RuntimeException e) {
            log.debug("stopping after a failed start", e);
        }
    }
}
