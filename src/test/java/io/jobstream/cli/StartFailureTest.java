package io.jobstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.config.Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import org.junit.jupiter.api.Test;

class StartFailureTest {
    private final Config.HttpConfig http = Config.defaults().http();

    @Test
    void a_port_in_use_anywhere_in_the_causes_is_named_with_the_flag_to_change() {
        RuntimeException e = new IllegalStateException(
                "Failed to start Javalin", new IOException("Failed to bind", new BindException("in use")));
        assertThat(StartFailure.describe(e, http))
                .isEqualTo("port 8052 on 127.0.0.1 is in use by another program: stop it, or choose another port"
                        + " with --port (env JOBSTREAM_PORT)");
    }

    @Test
    void otherwise_each_message_of_the_chain_once_and_never_a_trace() {
        IOException disk = new IOException("No space left on device");
        RuntimeException e = new IllegalStateException(
                "migration failed", new UncheckedIOException("cannot write: No space left on device", disk));
        assertThat(StartFailure.describe(e, http)).isEqualTo("migration failed: cannot write: No space left on device");
        assertThat(StartFailure.describe(new NullPointerException(), http)).isEqualTo("NullPointerException");
    }
}
