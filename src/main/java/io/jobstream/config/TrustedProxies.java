package io.jobstream.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The reverse proxies whose {@code X-Forwarded-For} and {@code X-Forwarded-Proto} the node believes
 * ({@code http.trusted-proxies}): addresses and CIDR ranges, IPv4 and IPv6. Empty, the default, trusts nobody.
 *
 * <p>The client's address is the rightmost {@code X-Forwarded-For} entry that is not itself a trusted proxy
 * ({@link #client}): each trusted proxy appends the address it was connected from, so the entries right of the
 * first untrusted one were all written by proxies we trust, while everything left of it was written by whoever that
 * client is, and may be anything. The leftmost entry, which many tutorials take, is whatever the client chose to send.
 *
 * <p>Entries are address literals only: a host name here would be resolved by DNS, which an attacker may control.
 * Immutable and thread-safe.
 */
public final class TrustedProxies {
    public static final TrustedProxies NONE = new TrustedProxies(List.of());

    /** Four decimal octets, no leading zeros (which some parsers read as octal). */
    private static final Pattern IPV4 = Pattern.compile("(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}");
    /** What an IPv6 literal may contain (a dotted IPv4 tail included); no zone ids, no host names. */
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]{2,45}");
    /**
     * Entries of {@code X-Forwarded-For} looked at, from the right: the chain of trusted proxies is short, and the
     * header (at most Jetty's header size) is never walked further than this.
     */
    static final int MAX_HOPS = 32;

    private final List<Range> ranges;

    private TrustedProxies(List<Range> ranges) {
        this.ranges = List.copyOf(ranges);
    }

    /**
     * Parses a comma-separated list of addresses ({@code 127.0.0.1}, {@code ::1}) and CIDR ranges
     * ({@code 10.0.0.0/8}, {@code fd00::/8}); blank means none.
     *
     * @throws IllegalArgumentException naming the first entry that is not one
     */
    public static TrustedProxies parse(String list) {
        List<Range> ranges = new ArrayList<>();
        for (String raw : list.split(",", -1)) {
            String entry = raw.strip();
            if (entry.isEmpty()) {
                if (list.isBlank()) continue;
                throw new IllegalArgumentException("an empty entry in '" + list + "'");
            }
            ranges.add(Range.parse(entry));
        }
        return new TrustedProxies(ranges);
    }

    public boolean isEmpty() {
        return ranges.isEmpty();
    }

    public boolean trusts(InetAddress address) {
        byte[] bytes = canonical(address).getAddress();
        for (Range r : ranges) if (r.contains(bytes)) return true;
        return false;
    }

    /**
     * The client behind {@code peer}: {@code peer} itself unless it is trusted; then the rightmost address of the
     * {@code X-Forwarded-For} values (in the order received; several header lines count as one list) that is not
     * trusted, or the leftmost address when all are. An entry that is not an address ({@code unknown}, garbage, an
     * obfuscated RFC 7239 name) ends the walk: the client is then the last trusted hop, the proxy that could not name
     * it, never a value further left that nobody we trust vouched for.
     */
    public InetAddress client(InetAddress peer, List<String> forwardedFor) {
        if (!trusts(peer)) return peer;
        List<String> entries = new ArrayList<>();
        for (String value : forwardedFor) for (String e : value.split(",", -1)) entries.add(e);
        InetAddress client = peer;
        for (int i = entries.size() - 1, hops = 0; i >= 0 && hops < MAX_HOPS; i--, hops++) {
            Optional<InetAddress> hop = hostOf(entries.get(i).strip());
            if (hop.isEmpty()) return client;
            client = hop.get();
            if (!trusts(client)) return client;
        }
        return client;
    }

    /**
     * The scheme a trusted proxy reports in {@code X-Forwarded-Proto}: the rightmost value, the one the nearest proxy
     * set, when it is {@code http} or {@code https}; anything else is empty (the connection's own scheme stands).
     */
    public static Optional<String> scheme(List<String> forwardedProto) {
        if (forwardedProto.isEmpty()) return Optional.empty();
        String last = forwardedProto.get(forwardedProto.size() - 1);
        String value = last.substring(last.lastIndexOf(',') + 1).strip().toLowerCase(Locale.ROOT);
        return value.equals("http") || value.equals("https") ? Optional.of(value) : Optional.empty();
    }

    /**
     * An {@code X-Forwarded-For} entry as an address: {@code 192.0.2.1}, {@code 192.0.2.1:4711}, {@code 2001:db8::1},
     * {@code [2001:db8::1]} or {@code [2001:db8::1]:4711}; empty for anything else.
     */
    static Optional<InetAddress> hostOf(String entry) {
        String host = entry;
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            if (close < 0) return Optional.empty();
            String rest = host.substring(close + 1);
            if (!rest.isEmpty() && !rest.matches(":[0-9]{1,5}")) return Optional.empty();
            host = host.substring(1, close);
            if (!host.contains(":")) return Optional.empty(); // brackets are for IPv6 only
        } else if (host.indexOf(':') >= 0 && host.indexOf(':') == host.lastIndexOf(':')) {
            String port = host.substring(host.indexOf(':') + 1);
            if (!port.matches("[0-9]{1,5}")) return Optional.empty();
            host = host.substring(0, host.indexOf(':')); // IPv4 with a port
        }
        try {
            return Optional.of(literal(host));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** An address literal, never looked up in DNS; IPv4-mapped IPv6 addresses come back as IPv4. */
    static InetAddress literal(String s) {
        try {
            if (IPV4.matcher(s).matches()) {
                String[] parts = s.split("\\.");
                byte[] b = new byte[4];
                for (int i = 0; i < 4; i++) {
                    int octet = Integer.parseInt(parts[i]);
                    if (octet > 255) throw new IllegalArgumentException("not an IPv4 address: '" + s + "'");
                    b[i] = (byte) octet;
                }
                return InetAddress.getByAddress(b);
            }
            // a literal with a colon is parsed, not resolved, by getByName; the pattern keeps names out
            if (s.indexOf(':') >= 0 && IPV6.matcher(s).matches()) return canonical(InetAddress.getByName(s));
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: '" + s + "'", e);
        }
        throw new IllegalArgumentException("not an IP address: '" + s + "'");
    }

    /** ::ffff:a.b.c.d is a.b.c.d: a dual-stack socket reports IPv4 peers that way. */
    private static InetAddress canonical(InetAddress a) {
        byte[] b = a.getAddress();
        if (b.length != 16) return a;
        for (int i = 0; i < 10; i++) if (b[i] != 0) return a;
        if (b[10] != (byte) 0xff || b[11] != (byte) 0xff) return a;
        try {
            return InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // four bytes are always an address
        }
    }

    @Override
    public String toString() {
        return String.join(",", ranges.stream().map(Range::toString).toList());
    }

    /** One address ({@code /32} or {@code /128}) or CIDR block. */
    private record Range(byte[] network, int prefix, String text) {
        static Range parse(String entry) {
            int slash = entry.indexOf('/');
            InetAddress address = literal(slash < 0 ? entry : entry.substring(0, slash));
            int bits = address.getAddress().length * 8;
            int prefix = bits;
            if (slash >= 0) {
                String p = entry.substring(slash + 1);
                if (!p.matches("[0-9]{1,3}") || Integer.parseInt(p) > bits)
                    throw new IllegalArgumentException("not a prefix length (0-" + bits + "): '" + entry + "'");
                prefix = Integer.parseInt(p);
            }
            byte[] network = address.getAddress();
            for (int i = 0; i < network.length; i++) network[i] &= mask(prefix, i);
            return new Range(network, prefix, address.getHostAddress() + "/" + prefix);
        }

        boolean contains(byte[] address) {
            if (address.length != network.length) return false;
            for (int i = 0; i < address.length; i++) {
                if ((address[i] & mask(prefix, i)) != (network[i] & 0xff)) return false;
            }
            return true;
        }

        /** The bits of byte {@code i} inside a {@code prefix}-bit network part. */
        private static int mask(int prefix, int i) {
            int inByte = Math.max(0, Math.min(8, prefix - 8 * i));
            return (0xff << (8 - inByte)) & 0xff;
        }

        @Override
        public String toString() {
            return text;
        }
    }
}
