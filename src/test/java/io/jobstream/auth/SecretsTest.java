package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SecretsTest {
    @Test
    void secrets_are_43_letters_and_digits_so_no_command_line_takes_one_for_an_option() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 20_000; i++) { // a base64 secret would have begun with '-' about 300 times here
            String s = Secrets.newSecret();
            assertThat(s).matches("[A-Za-z0-9]{43}");
            assertThat(seen.add(s)).as("never twice").isTrue();
        }
    }
}
