package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.Binaries;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs the callback plugin's Python unit tests (src/test/python) with the Python that ansible-core is installed for
 * (the interpreter on ansible-playbook's {@code #!} line), from their own directory so the repository's {@code ansible/} folder
 * cannot shadow the real {@code ansible} package.
 */
class PluginPythonTest {
    @Test
    void the_plugins_python_unit_tests_pass() throws Exception {
        String python = Binaries.ansiblePython().toString();
        Process p = new ProcessBuilder(python, "-m", "unittest", "discover", "-s", ".", "-v")
                .directory(Path.of("src/test/python").toFile())
                .redirectErrorStream(true)
                .start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(output).contains("Ran ").contains("OK");
    }
}
