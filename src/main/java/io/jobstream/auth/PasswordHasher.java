package io.jobstream.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Passwords as Django (and so AWX) stores them: {@code pbkdf2_sha256$<iterations>$<salt>$<base64 hash>}, PBKDF2 with
 * HMAC-SHA256 from the JDK, a random 22-character salt, and a 32-byte key. Verifying uses the iterations stored in
 * the hash, so raising {@link #ITERATIONS} later keeps old hashes valid. Comparison is constant time.
 *
 * <p>Deliberately slow (about half a second on a small machine): a stolen table costs an attacker as much per guess.
 * Thread-safe and stateless apart from its {@link SecureRandom}.
 */
public final class PasswordHasher {
    public static final String ALGORITHM = "pbkdf2_sha256";
    /** Django 4.2's default; OWASP's floor for PBKDF2-HMAC-SHA256. */
    public static final int ITERATIONS = 600_000;

    private static final String SALT_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private static final int SALT_LENGTH = 22; // Django's: about 128 bits from 62 symbols

    private final SecureRandom random;
    private final int iterations;

    public PasswordHasher() {
        this(new SecureRandom(), ITERATIONS);
    }

    PasswordHasher(SecureRandom random, int iterations) {
        this.random = random;
        this.iterations = iterations;
    }

    public String hash(String password) {
        StringBuilder salt = new StringBuilder(SALT_LENGTH);
        for (int i = 0; i < SALT_LENGTH; i++) salt.append(SALT_CHARS.charAt(random.nextInt(SALT_CHARS.length())));
        return encode(password, salt.toString(), iterations);
    }

    static String encode(String password, String salt, int iterations) {
        byte[] key = pbkdf2(password, salt, iterations);
        return ALGORITHM + "$" + iterations + "$" + salt + "$"
                + Base64.getEncoder().encodeToString(key);
    }

    /** Whether {@code password} matches {@code encoded}; false for anything not in the format above. */
    public boolean verify(String password, String encoded) {
        if (password == null || encoded == null) return false;
        String[] parts = encoded.split("\\$", -1);
        if (parts.length != 4 || !parts[0].equals(ALGORITHM) || !parts[1].matches("[1-9][0-9]{0,8}")) return false;
        byte[] expected;
        try {
            expected = Base64.getDecoder().decode(parts[3]);
        } catch (IllegalArgumentException e) {
            return false;
        }
        byte[] actual = pbkdf2(password, parts[2], Integer.parseInt(parts[1]));
        return MessageDigest.isEqual(expected, actual);
    }

    private static byte[] pbkdf2(String password, String salt, int iterations) {
        // The JDK encodes the password chars as UTF-8, as Django's force_bytes does.
        PBEKeySpec spec =
                new PBEKeySpec(password.toCharArray(), salt.getBytes(StandardCharsets.UTF_8), iterations, 256);
        try {
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                    .generateSecret(spec)
                    .getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has PBKDF2WithHmacSHA256", e);
        } finally {
            spec.clearPassword();
        }
    }
}
