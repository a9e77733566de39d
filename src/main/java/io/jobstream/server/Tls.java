package io.jobstream.server;

import io.jobstream.config.Config.TlsConfig;
import io.jobstream.config.PrivateFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The node's TLS identity: a key and certificate chain from PEM files, or a self-signed certificate for localhost
 * that is made once with the JDK's {@code keytool} and kept under {@code data-dir/tls}, so that a browser's
 * exception for it (and a client's {@code --cacert}) stays valid across restarts.
 *
 * <p>PEM is read with the JDK alone: the formats openssl 3 writes by default (certificates, and PKCS#8
 * "BEGIN PRIVATE KEY" for RSA, EC and Ed25519 keys) cover what operators hand us; older PKCS#1 and encrypted keys get
 * an error that says how to convert them, rather than a library for a one-time conversion.
 */
public final class Tls {
    static final String SELF_SIGNED_ALIAS = "jobstream";
    // The self-signed keystore sits in the node's own data dir, as private as the database files next to it; a
    // secret password would have to be stored beside it, which protects nothing more.
    private static final char[] STORE_PASSWORD = "jobstream".toCharArray();
    private static final Pattern PEM_KEY =
            Pattern.compile("-----BEGIN ([A-Z ]*PRIVATE KEY)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    private final KeyStore keyStore;
    private final X509Certificate certificate;
    private final Path certificateFile;

    private Tls(KeyStore keyStore, X509Certificate certificate, Path certificateFile) {
        this.keyStore = keyStore;
        this.certificate = certificate;
        this.certificateFile = certificateFile;
    }

    /** Loads (or, for self-signed, makes on first use) the identity the config asks for. */
    public static Tls load(TlsConfig config, Path dataDir, String host) {
        try {
            if (config.selfSigned()) return selfSigned(dataDir.resolve("tls"), host);
            return fromPem(config.cert().orElseThrow(), config.key().orElseThrow());
        } catch (IOException | GeneralSecurityException e) {
            String from = config.selfSigned()
                    ? ""
                    : " from " + config.cert().map(String::valueOf).orElse("?") + " and "
                            + config.key().map(String::valueOf).orElse("?");
            throw new IllegalStateException("cannot set up TLS" + from + ": " + e.getMessage(), e);
        }
    }

    static Tls fromPem(Path certFile, Path keyFile) throws IOException, GeneralSecurityException {
        List<X509Certificate> chain = new ArrayList<>();
        try (InputStream in = Files.newInputStream(certFile)) {
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                chain.add((X509Certificate) c);
            }
        }
        if (chain.isEmpty()) throw new GeneralSecurityException("no certificate in " + certFile);
        PrivateKey key = readKey(keyFile);
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry(SELF_SIGNED_ALIAS, key, STORE_PASSWORD, chain.toArray(Certificate[]::new));
        return new Tls(store, chain.get(0), certFile);
    }

    private static PrivateKey readKey(Path keyFile) throws IOException, GeneralSecurityException {
        String pem = Files.readString(keyFile, StandardCharsets.US_ASCII);
        Matcher m = PEM_KEY.matcher(pem);
        if (!m.find()) throw new GeneralSecurityException("no PEM private key in " + keyFile);
        if (!m.group(1).equals("PRIVATE KEY")) {
            throw new GeneralSecurityException(keyFile + " holds a '" + m.group(1)
                    + "'; jobstream reads unencrypted PKCS#8"
                    + " keys: convert it with 'openssl pkcs8 -topk8 -nocrypt -in " + keyFile + " -out key.pem'");
        }
        byte[] der = Base64.getMimeDecoder().decode(m.group(2));
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "EdDSA")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException notThisOne) {
                // PKCS#8 names its algorithm inside; trying the few TLS uses is simpler than parsing the ASN.1 for it
            }
        }
        throw new GeneralSecurityException("unsupported private key algorithm in " + keyFile + " (RSA, EC or Ed25519)");
    }

    static Tls selfSigned(Path dir, String host) throws IOException, GeneralSecurityException {
        Path store = dir.resolve("self-signed.p12");
        Path pem = dir.resolve("self-signed.crt");
        if (!Files.exists(store)) makeSelfSigned(dir, store, pem, host);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, STORE_PASSWORD);
        }
        return new Tls(ks, (X509Certificate) ks.getCertificate(SELF_SIGNED_ALIAS), pem);
    }

    private static void makeSelfSigned(Path dir, Path store, Path pem, String host) throws IOException {
        PrivateFiles.directory(
                dir); // keytool writes the private key with the umask's mode: the directory keeps it ours
        String san = "dns:localhost,ip:127.0.0.1,ip:0:0:0:0:0:0:0:1";
        if (!host.isBlank() && !host.equals("0.0.0.0") && !host.equals("localhost") && !host.equals("127.0.0.1")) {
            san += (host.matches("[0-9.]+|[0-9a-fA-F:]+") ? ",ip:" : ",dns:") + host;
        }
        Path partial = dir.resolve("self-signed.p12.partial");
        Files.deleteIfExists(partial);
        keytool(
                "-genkeypair",
                "-alias",
                SELF_SIGNED_ALIAS,
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=localhost, O=jobstream",
                "-ext",
                "SAN=" + san,
                "-validity",
                "825",
                "-storetype",
                "PKCS12",
                "-keystore",
                partial.toString(),
                "-storepass",
                new String(STORE_PASSWORD));
        keytool(
                "-exportcert",
                "-rfc",
                "-alias",
                SELF_SIGNED_ALIAS,
                "-keystore",
                partial.toString(),
                "-storepass",
                new String(STORE_PASSWORD),
                "-file",
                pem.toString());
        // the keystore appears under its final name only when complete, so a crash here is redone on the next start
        Files.move(partial, store);
    }

    private static void keytool(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("keytool " + args[0] + " failed: " + output.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while making the self-signed certificate", e);
        }
    }

    /** The leaf certificate, as a PEM file (what a client passes as its CA to trust a self-signed node). */
    public Path certificateFile() {
        return certificateFile;
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** An HTTPS connector (HTTP/1.1 over TLS, websockets included) for Jetty; the caller sets its address. */
    ServerConnector connector(org.eclipse.jetty.server.Server server, HttpConfiguration http) {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStore(keyStore);
        ssl.setKeyStorePassword(new String(STORE_PASSWORD));
        // A self-signed certificate names localhost: a client dialling 127.0.0.1 must not be refused for its SNI.
        SecureRequestCustomizer secure = new SecureRequestCustomizer();
        secure.setSniHostCheck(false);
        HttpConfiguration https = new HttpConfiguration(http);
        https.addCustomizer(secure);
        ServerConnector connector = new ServerConnector(
                server, new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory(https));
        return connector;
    }

    /** An SSLContext that trusts exactly this node's certificate: for the node's own clients (the demo emitter). */
    public SSLContext clientContext() {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("node", certificate);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a client TLS context for the node's certificate", e);
        }
    }
}
