package io.jobstream.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AuthConfigTest {
    @Test
    void the_admin_password_comes_from_jobstream_admin_password_and_never_shows_in_the_config_text() {
        Config c = ConfigLoader.load(Map.of("JOBSTREAM_ADMIN_PASSWORD", "s3cret"), Map.of());
        assertThat(c.auth().adminPassword()).isEqualTo("s3cret");
        assertThat(c.toString()).doesNotContain("s3cret");
        assertThat(Config.defaults().auth().adminPassword()).isEmpty();
    }

    @Test
    void auth_settings_have_working_defaults_and_are_validated() {
        Config.AuthConfig d = Config.defaults().auth();
        assertThat(d.sessionTimeout()).isEqualTo(Duration.ofHours(8));
        assertThat(d.basicCache()).isEqualTo(Duration.ofMinutes(5));
        assertThat(d.adminsOnlyLaunch()).isFalse();
        assertThat(ConfigLoader.load(Map.of(), Map.of("jobs.launch-by", "admins"))
                        .auth()
                        .adminsOnlyLaunch())
                .isTrue();
        assertThat(ConfigLoader.load(Map.of(), Map.of("auth.basic-cache", "0s"))
                        .auth()
                        .basicCache())
                .isZero();
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Map.of("jobs.launch-by", "everyone")))
                .hasMessageContaining("jobs.launch-by must be 'users' or 'admins'");
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Map.of("auth.session-timeout", "5s")))
                .hasMessageContaining("auth.session-timeout");
    }
}
