package io.jobstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

class ServeFlagsTest {
    @Test
    void redact_pattern_may_be_given_several_times() {
        CommandSpec spec = ServeCommand.spec();
        new CommandLine(spec).parseArgs("--redact-pattern", "a+b", "--redact-pattern", "c d", "--port", "0");
        List<String> values = spec.findOption("--redact-pattern").getValue();
        assertThat(values).containsExactly("a+b", "c d");
    }
}
