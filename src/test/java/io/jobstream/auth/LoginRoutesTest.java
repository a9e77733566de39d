package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LoginRoutesTest {
    @Test
    void next_is_followed_only_when_it_is_a_path_on_this_site() {
        assertThat(LoginRoutes.safeNext("/jobs/5?x=1")).isEqualTo("/jobs/5?x=1");
        assertThat(LoginRoutes.safeNext(null)).isEqualTo("/");
        for (String bad : new String[] {
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "jobs/5",
            "/ok\r\nSet-Cookie: x=1",
            "javascript:alert(1)",
            ""
        }) {
            assertThat(LoginRoutes.safeNext(bad)).as(bad).isEqualTo("/");
        }
    }

    @Test
    void a_cookie_handshake_must_come_from_this_host() {
        assertThat(WebsocketAuth.sameOrigin("http://127.0.0.1:8052", "127.0.0.1:8052", "http"))
                .isTrue();
        assertThat(WebsocketAuth.sameOrigin("https://jobs.example", "jobs.example", "http"))
                .isTrue();
        assertThat(WebsocketAuth.sameOrigin(null, "127.0.0.1:8052", "http"))
                .as("no Origin: not a browser")
                .isTrue();
        assertThat(WebsocketAuth.sameOrigin("http://evil.example", "127.0.0.1:8052", "http"))
                .isFalse();
        assertThat(WebsocketAuth.sameOrigin("http://127.0.0.1:9999", "127.0.0.1:8052", "http"))
                .isFalse();
        assertThat(WebsocketAuth.sameOrigin("null", "127.0.0.1:8052", "http")).isFalse();
    }

    @Test
    void a_client_on_https_accepts_only_an_https_origin() {
        assertThat(WebsocketAuth.sameOrigin("https://jobs.example", "jobs.example", "https"))
                .isTrue();
        assertThat(WebsocketAuth.sameOrigin("HTTPS://jobs.example:443", "jobs.example", "https"))
                .isTrue();
        assertThat(WebsocketAuth.sameOrigin("http://jobs.example", "jobs.example", "https"))
                .as("a plain-http page on the same name is another site")
                .isFalse();
        assertThat(WebsocketAuth.sameOrigin("http://jobs.example:443", "jobs.example:443", "https"))
                .isFalse();
        assertThat(WebsocketAuth.sameOrigin("https://jobs.example:8443", "jobs.example:8443", "https"))
                .isTrue();
        assertThat(WebsocketAuth.sameOrigin("https://evil.example", "jobs.example", "https"))
                .isFalse();
        assertThat(WebsocketAuth.sameOrigin("https://jobs.example:8443", "jobs.example", "https"))
                .as("a Host without a port is 443 over https: another port of the same name is another site")
                .isFalse();
        assertThat(WebsocketAuth.sameOrigin("https://[::1]", "[::1]", "https")).isTrue();
        // over http (perhaps an untrusted TLS-terminating proxy) the scheme cannot be told: host and port decide
        assertThat(WebsocketAuth.sameOrigin("https://jobs.example", "jobs.example", "http"))
                .isTrue();
    }

    @Test
    void a_session_is_read_from_sessionid_or_awxs_awx_sessionid_quoted_or_not() {
        assertThat(Authenticator.sessionKey(java.util.Map.of("sessionid", "k1")::get))
                .isEqualTo("k1");
        assertThat(Authenticator.sessionKey(java.util.Map.of("awx_sessionid", "k2")::get))
                .isEqualTo("k2");
        assertThat(Authenticator.sessionKey(java.util.Map.of("awx_sessionid", "\"k3\"")::get))
                .as("WSClient writes awx_sessionid=\"...\"")
                .isEqualTo("k3");
        assertThat(Authenticator.sessionKey(java.util.Map.of("sessionid", "a", "awx_sessionid", "b")::get))
                .isEqualTo("a");
        assertThat(Authenticator.sessionKey(java.util.Map.of("sessionid", "")::get))
                .isNull();
        assertThat(Authenticator.sessionKey(java.util.Map.of("awx_sessionid", "\"\"")::get))
                .isNull();
        assertThat(Authenticator.sessionKey(java.util.Map.<String, String>of()::get))
                .isNull();
    }
}
