package io.jobstream.server;

import io.jobstream.auth.Client;
import io.jobstream.config.TrustedProxies;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Locale;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;

/**
 * The one place that decides who a request's client is ({@link Client}), before any handler runs, websocket
 * handshakes and event streams included. From a peer in {@code http.trusted-proxies}, the address comes from
 * {@code X-Forwarded-For} and the scheme from {@code X-Forwarded-Proto} ({@link TrustedProxies}); the request is then
 * also rewritten as Jetty's own {@code ForwardedRequestCustomizer} would (remote address, scheme, secure), so that
 * Javalin's {@code ctx.ip()} and {@code ctx.scheme()} agree with it. From any other peer both headers are ignored:
 * a hostile client can send them as easily as a proxy. Jetty's customizer is not used because it believes every peer
 * and takes the leftmost {@code X-Forwarded-For} entry, which the client writes.
 */
final class ForwardedClient implements HttpConfiguration.Customizer {
    private final TrustedProxies trusted;

    ForwardedClient(TrustedProxies trusted) {
        this.trusted = trusted;
    }

    @Override
    public Request customize(Request request, HttpFields.Mutable responseHeaders) {
        SocketAddress peerAddress = request.getConnectionMetaData().getRemoteSocketAddress();
        String scheme = scheme(request);
        if (!(peerAddress instanceof InetSocketAddress peer) || peer.getAddress() == null) {
            request.setAttribute(Client.ATTRIBUTE, new Client(String.valueOf(peerAddress), 0, scheme, false));
            return request;
        }
        if (!trusted.trusts(peer.getAddress())) {
            request.setAttribute(
                    Client.ATTRIBUTE, new Client(peer.getAddress().getHostAddress(), peer.getPort(), scheme, false));
            return request;
        }
        HttpFields headers = request.getHeaders();
        InetAddress address = trusted.client(peer.getAddress(), headers.getValuesList(HttpHeader.X_FORWARDED_FOR));
        String forwardedScheme = TrustedProxies.scheme(headers.getValuesList(HttpHeader.X_FORWARDED_PROTO))
                .orElse(scheme);
        boolean named = !address.equals(peer.getAddress());
        Client client = new Client(address.getHostAddress(), named ? 0 : peer.getPort(), forwardedScheme, named);
        request.setAttribute(Client.ATTRIBUTE, client);
        if (!named && forwardedScheme.equals(scheme)) return request;
        return rewritten(request, named ? new InetSocketAddress(address, 0) : peer, forwardedScheme);
    }

    private static String scheme(Request request) {
        String s = request.getHttpURI().getScheme();
        if (s == null) return request.isSecure() ? "https" : "http";
        return s.toLowerCase(Locale.ROOT);
    }

    /** The request as the client made it: from its address, in its scheme. */
    private static Request rewritten(Request request, InetSocketAddress remote, String scheme) {
        boolean secure = scheme.equals("https");
        HttpURI uri = HttpURI.build(request.getHttpURI()).scheme(scheme).asImmutable();
        ConnectionMetaData meta = new ConnectionMetaData.Wrapper(request.getConnectionMetaData()) {
            @Override
            public SocketAddress getRemoteSocketAddress() {
                return remote;
            }

            @Override
            public boolean isSecure() {
                return secure;
            }
        };
        return new Request.Wrapper(request) {
            @Override
            public ConnectionMetaData getConnectionMetaData() {
                return meta;
            }

            @Override
            public HttpURI getHttpURI() {
                return uri;
            }

            @Override
            public boolean isSecure() {
                return secure;
            }
        };
    }
}
