package io.jobstream.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/** Random secrets for sessions, tokens and passwords, and the SHA-256 under which sessions and tokens are stored. */
public final class Secrets {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Secrets() {}

    private static final String ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /**
     * 43 random letters and digits (256 bits): unguessable, so a fast hash is enough to store it. Letters and digits
     * only, as AWX's own tokens: a URL-safe base64 secret began with '-' one time in 64, and command lines then took
     * it for an option ({@code awx --conf.token -x…}: "expected one argument").
     */
    public static String newSecret() {
        StringBuilder b = new StringBuilder(43);
        for (int i = 0; i < 43; i++) b.append(ALPHANUMERIC.charAt(RANDOM.nextInt(ALPHANUMERIC.length())));
        return b.toString();
    }

    /** A password people can type: 20 letters and digits (about 119 bits). */
    public static String newPassword() {
        String chars = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 20; i++) b.append(chars.charAt(RANDOM.nextInt(chars.length())));
        return b.toString();
    }

    public static byte[] sha256(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
