package io.jobstream.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** http.trusted-proxies: its parsing, and who the client is behind a chain of proxies, with hostile headers. */
class TrustedProxiesTest {
    private static final TrustedProxies LOCAL_AND_LAN = TrustedProxies.parse("127.0.0.1, ::1, 10.0.0.0/8, fd00::/8");

    private static InetAddress ip(String s) {
        return TrustedProxies.literal(s);
    }

    private static String client(TrustedProxies proxies, String peer, String... forwardedFor) {
        return proxies.client(ip(peer), List.of(forwardedFor)).getHostAddress();
    }

    @Test
    void empty_trusts_nobody_and_is_the_default() {
        assertThat(TrustedProxies.parse("").isEmpty()).isTrue();
        assertThat(TrustedProxies.parse("  ").isEmpty()).isTrue();
        assertThat(TrustedProxies.NONE.trusts(ip("127.0.0.1"))).isFalse();
        assertThat(ConfigLoader.load(Map.of(), Map.of()).http().trustedProxies().isEmpty())
                .isTrue();
        assertThat(client(TrustedProxies.NONE, "127.0.0.1", "203.0.113.9")).isEqualTo("127.0.0.1");
    }

    @Test
    void addresses_and_cidrs_of_both_families_match_what_they_cover_only() {
        TrustedProxies p = TrustedProxies.parse("192.168.4.0/22,2001:db8:abcd::/48,198.51.100.7,::1,0.0.0.0/0");
        assertThat(p.toString())
                .isEqualTo("192.168.4.0/22,2001:db8:abcd:0:0:0:0:0/48,198.51.100.7/32,0:0:0:0:0:0:0:1/128,0.0.0.0/0");
        TrustedProxies lan = TrustedProxies.parse("192.168.4.0/22, 2001:db8:abcd::/48, 198.51.100.7");
        assertThat(lan.trusts(ip("192.168.4.0"))).isTrue();
        assertThat(lan.trusts(ip("192.168.7.255"))).isTrue();
        assertThat(lan.trusts(ip("192.168.8.0"))).isFalse();
        assertThat(lan.trusts(ip("192.168.3.255"))).isFalse();
        assertThat(lan.trusts(ip("198.51.100.7"))).isTrue();
        assertThat(lan.trusts(ip("198.51.100.8"))).isFalse();
        assertThat(lan.trusts(ip("2001:db8:abcd:ffff::1"))).isTrue();
        assertThat(lan.trusts(ip("2001:db8:abce::1"))).isFalse();
        // an IPv4 peer as a dual-stack socket may name it, and no family confusion between ::c0a8:401 and 192.168.4.1
        assertThat(lan.trusts(ip("::ffff:192.168.4.1"))).isTrue();
        assertThat(lan.trusts(ip("::c0a8:401"))).isFalse();
        // a host part in a CIDR is masked off, as ip(8) does
        assertThat(TrustedProxies.parse("10.1.2.3/8").trusts(ip("10.200.0.1"))).isTrue();
        assertThat(TrustedProxies.parse("0.0.0.0/0").trusts(ip("8.8.8.8"))).isTrue();
        assertThat(TrustedProxies.parse("0.0.0.0/0").trusts(ip("::1"))).isFalse();
        assertThat(TrustedProxies.parse("::/0").trusts(ip("2001:db8::1"))).isTrue();
    }

    @Test
    void anything_but_address_literals_is_refused_at_startup() {
        for (String bad : List.of(
                "localhost",
                "nginx.internal",
                "10.0.0.0/33",
                "::1/129",
                "10.0.0.0/",
                "10.0.0.0/-1",
                "10.0.0.256",
                "10.0.0",
                "010.0.0.1",
                "1.2.3.4.5",
                "127.0.0.1,",
                ",127.0.0.1",
                "127.0.0.1,,::1",
                "fe80::1%eth0",
                "[::1]",
                "1.2.3.4:80",
                "2001:db8:::1",
                "*")) {
            assertThatThrownBy(() -> TrustedProxies.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Map.of("http.trusted-proxies", "10.0.0.0/8,proxy")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("http.trusted-proxies")
                .hasMessageContaining("'proxy'");
        assertThat(ConfigLoader.load(Map.of("JOBSTREAM_HTTP_TRUSTED_PROXIES", "127.0.0.1,::1"), Map.of())
                        .http()
                        .trustedProxies()
                        .trusts(ip("::1")))
                .isTrue();
    }

    @Test
    void the_client_is_the_rightmost_entry_that_is_not_a_trusted_proxy_never_the_leftmost() {
        // nginx on the host appended the address it saw; the client's own "1.1.1.1" is ignored
        assertThat(client(LOCAL_AND_LAN, "127.0.0.1", "1.1.1.1, 203.0.113.9")).isEqualTo("203.0.113.9");
        // a chain: the edge proxy (10.0.0.5) and nginx (127.0.0.1) are trusted, the client is left of them
        assertThat(client(LOCAL_AND_LAN, "127.0.0.1", "6.6.6.6, 203.0.113.9, 10.0.0.5"))
                .isEqualTo("203.0.113.9");
        // several header lines are one list, in order
        assertThat(client(LOCAL_AND_LAN, "127.0.0.1", "6.6.6.6", "203.0.113.9", "10.0.0.5"))
                .isEqualTo("203.0.113.9");
        // everyone is a trusted proxy (an internal client): the leftmost, which is trusted too
        assertThat(client(LOCAL_AND_LAN, "127.0.0.1", "10.9.9.9, 10.0.0.5")).isEqualTo("10.9.9.9");
        // no header from a trusted peer: the peer
        assertThat(client(LOCAL_AND_LAN, "127.0.0.1")).isEqualTo("127.0.0.1");
        assertThat(client(LOCAL_AND_LAN, "127.0.0.1", "")).isEqualTo("127.0.0.1");
    }

    @Test
    void an_untrusted_peer_is_the_client_whatever_it_claims() {
        assertThat(client(LOCAL_AND_LAN, "203.0.113.66", "127.0.0.1")).isEqualTo("203.0.113.66");
        assertThat(client(LOCAL_AND_LAN, "203.0.113.66", "10.0.0.1, 198.51.100.1"))
                .isEqualTo("203.0.113.66");
        assertThat(client(TrustedProxies.parse("10.0.0.0/8"), "127.0.0.1", "198.51.100.1"))
                .isEqualTo("127.0.0.1");
    }

    @Test
    void ipv6_clients_and_ports_in_any_spelling() {
        assertThat(client(LOCAL_AND_LAN, "::1", "2001:db8::7")).isEqualTo("2001:db8:0:0:0:0:0:7");
        assertThat(client(LOCAL_AND_LAN, "::1", "[2001:db8::7]:4711")).isEqualTo("2001:db8:0:0:0:0:0:7");
        assertThat(client(LOCAL_AND_LAN, "::1", "[2001:db8::7]")).isEqualTo("2001:db8:0:0:0:0:0:7");
        assertThat(client(LOCAL_AND_LAN, "127.0.0.1", "203.0.113.9:51234")).isEqualTo("203.0.113.9");
        // trusted hops may be IPv6 and IPv4-mapped
        assertThat(client(LOCAL_AND_LAN, "127.0.0.1", "203.0.113.9, [fd00::2]:80, ::ffff:10.0.0.3"))
                .isEqualTo("203.0.113.9");
        assertThat(client(LOCAL_AND_LAN, "::ffff:127.0.0.1", "203.0.113.9")).isEqualTo("203.0.113.9");
    }

    @Test
    void garbage_ends_the_walk_at_the_last_trusted_hop_never_further_left() {
        for (String garbage : List.of(
                "unknown",
                "_hidden",
                "evil.example",
                "203.0.113.9:http",
                "[2001:db8::7",
                "[203.0.113.9]",
                "2001:db8::7]:80",
                "1.2.3.4:5:6",
                "999.1.1.1",
                "0x7f.0.0.1",
                "fe80::1%eth0",
                "\u0000",
                "203.0.113.9 extra")) {
            assertThat(client(LOCAL_AND_LAN, "127.0.0.1", "6.6.6.6, " + garbage))
                    .as(garbage)
                    .isEqualTo("127.0.0.1");
            assertThat(client(LOCAL_AND_LAN, "127.0.0.1", "6.6.6.6, " + garbage + ", 10.0.0.5"))
                    .as(garbage + " behind a trusted hop")
                    .isEqualTo("10.0.0.5");
        }
        assertThat(client(LOCAL_AND_LAN, "127.0.0.1", ",,,")).isEqualTo("127.0.0.1");
    }

    @Test
    void many_hops_are_walked_only_as_far_as_the_limit() {
        List<String> hops = new ArrayList<>();
        hops.add("203.0.113.9");
        for (int i = 0; i < 10_000; i++) hops.add("10.0." + (i / 250) % 250 + "." + (i % 250 + 1));
        // a client that pads its header with trusted-looking addresses gets no further than the last one looked at
        String c = client(LOCAL_AND_LAN, "127.0.0.1", String.join(",", hops));
        assertThat(LOCAL_AND_LAN.trusts(ip(c))).isTrue();
        List<String> few = new ArrayList<>(List.of("203.0.113.9"));
        for (int i = 1; i < TrustedProxies.MAX_HOPS; i++) few.add("10.0.0." + i);
        assertThat(client(LOCAL_AND_LAN, "127.0.0.1", String.join(", ", few))).isEqualTo("203.0.113.9");
    }

    @Test
    void the_scheme_is_the_rightmost_forwarded_proto_when_it_is_http_or_https() {
        assertThat(TrustedProxies.scheme(List.of("https"))).contains("https");
        assertThat(TrustedProxies.scheme(List.of("HTTPS "))).contains("https");
        assertThat(TrustedProxies.scheme(List.of("http"))).contains("http");
        assertThat(TrustedProxies.scheme(List.of("http, https"))).contains("https");
        assertThat(TrustedProxies.scheme(List.of("https", "http"))).contains("http");
        for (String bad : List.of("", "wss", "https;", "ftp", "javascript", "https http")) {
            assertThat(TrustedProxies.scheme(List.of(bad))).as(bad).isEqualTo(Optional.empty());
        }
        assertThat(TrustedProxies.scheme(List.of())).isEmpty();
    }
}
