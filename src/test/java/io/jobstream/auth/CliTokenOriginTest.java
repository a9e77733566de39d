package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTokenOriginTest {
    private static final long ME = ProcessHandle.current().pid();

    @Test
    void the_token_goes_to_the_recorded_origin_only() {
        CliTokenOrigin node = new CliTokenOrigin("http://127.0.0.1:8052", ME);
        assertThat(node.admits(URI.create("http://127.0.0.1:8052/"))).isTrue();
        assertThat(node.admits(URI.create("HTTP://127.0.0.1:8052/api/v2/stats/")))
                .isTrue();
        assertThat(node.admits(URI.create("ws://127.0.0.1:8052/websocket/"))).isTrue();
        assertThat(node.admits(URI.create("http://127.0.0.1:8053/"))).isFalse();
        assertThat(node.admits(URI.create("https://127.0.0.1:8052/"))).isFalse();
        assertThat(node.admits(URI.create("http://anyhost:8052/"))).isFalse();
        assertThat(node.admits(URI.create("http://127.0.0.1.evil.example:8052/")))
                .isFalse();
        assertThat(node.admits(URI.create("http://user@127.0.0.2:8052/"))).isFalse();
        assertThat(node.admits(URI.create("http://localhost:8052/")))
                .as("another name may resolve elsewhere")
                .isFalse();
    }

    @Test
    void a_node_on_every_interface_is_reached_through_loopback_names() {
        CliTokenOrigin node = new CliTokenOrigin("http://0.0.0.0:8052", ME);
        assertThat(node.admits(URI.create("http://localhost:8052/"))).isTrue();
        assertThat(node.admits(URI.create("http://127.0.0.1:8052/"))).isTrue();
        assertThat(node.admits(URI.create("http://192.0.2.7:8052/"))).isFalse();
    }

    @Test
    void a_node_that_is_no_longer_running_gets_nothing() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        assertThat(new CliTokenOrigin("http://127.0.0.1:8052", gone.pid()).admits(URI.create("http://127.0.0.1:8052/")))
                .isFalse();
    }

    @Test
    void the_record_round_trips_and_only_its_writer_removes_it(@TempDir Path dir) {
        CliTokenOrigin.write(dir, URI.create("http://127.0.0.1:41000/"));
        assertThat(CliTokenOrigin.read(dir)).contains(new CliTokenOrigin("http://127.0.0.1:41000", ME));
        CliTokenOrigin.remove(dir);
        assertThat(CliTokenOrigin.read(dir)).isEmpty();
    }
}
