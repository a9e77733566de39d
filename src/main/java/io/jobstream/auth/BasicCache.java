package io.jobstream.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Remembers, briefly, which HTTP Basic credentials were verified.
 *
 * <p>Why: Basic sends the password with every request, and verifying it costs a deliberately slow PBKDF2 (hundreds of
 * milliseconds). Without this, a script polling the API with Basic, or the plugin posting batches, would spend a core
 * per request. With it, the slow hash runs once per credential per {@code auth.basic-cache} period.
 *
 * <p>What is kept: only a keyed MAC (HMAC-SHA256 with a random key made at start and never stored) of the username,
 * the password, and the user's stored password hash, with an expiry. No password is kept, and a heap dump gives no
 * fast way to test guesses, since the key is random per process. Because the stored hash is part of the MAC, a password
 * change, on this node or any other, makes the old entry miss at once; {@link #clear} also drops everything when a
 * password changes here. Bounded: when full, expired entries are dropped, and if none, the whole cache (it only
 * costs hashing again). Thread-safe.
 */
public final class BasicCache {
    static final int MAX_ENTRIES = 10_000;

    private final Duration ttl;
    private final Clock clock;
    private final SecretKeySpec key;
    /**
     * One keyed MAC per thread, reused: every authenticated request (and every refused one) computes a MAC, and
     * {@code Mac.getInstance} plus {@code init} per call cost more than the MAC of a short credential itself.
     * {@code doFinal} leaves it keyed and ready for the next one.
     */
    private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(this::newMac);

    private final Map<String, Instant> verified = new ConcurrentHashMap<>();
    /** The same without the stored hash, for {@link #mayContain}; bounded alike. */
    private final Map<String, Instant> names = new ConcurrentHashMap<>();
    /** Credential (as MAC) → who it was, for riding out a store outage; see {@link #rememberPrincipal}. */
    private final Map<String, Recent> principals = new ConcurrentHashMap<>();

    private record Recent(Principal principal, Instant expires) {}

    public BasicCache(Duration ttl, Clock clock) {
        this.ttl = ttl;
        this.clock = clock;
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        this.key = new SecretKeySpec(secret, "HmacSHA256");
    }

    /** Whether this exact username, password and stored hash were verified within the last {@code ttl}. */
    public boolean contains(String username, String password, String storedHash) {
        if (ttl.isZero()) return false;
        String mac = mac(username, password, storedHash);
        Instant expires = verified.get(mac);
        if (expires == null) return false;
        if (!clock.instant().isBefore(expires)) {
            verified.remove(mac, expires);
            return false;
        }
        return true;
    }

    /** Records a successful verification. */
    public void put(String username, String password, String storedHash) {
        if (ttl.isZero()) return;
        Instant now = clock.instant();
        if (verified.size() >= MAX_ENTRIES) {
            verified.values().removeIf(e -> !now.isBefore(e));
            if (verified.size() >= MAX_ENTRIES) verified.clear();
        }
        verified.put(mac(username, password, storedHash), now.plus(ttl));
        if (names.size() >= MAX_ENTRIES) {
            names.values().removeIf(e -> !now.isBefore(e));
            if (names.size() >= MAX_ENTRIES) names.clear();
        }
        names.put(mac(username, password, ""), now.plus(ttl)); // no stored hash is empty: never a verified key
    }

    /**
     * Whether this username and password were verified within the last {@code ttl}, against whatever hash was stored
     * then: not enough to let them in ({@link #contains} binds the stored hash), only to tell that they are worth a
     * user lookup while their address or name is throttled.
     */
    boolean mayContain(String username, String password) {
        if (ttl.isZero()) return false;
        Instant expires = names.get(mac(username, password, ""));
        return expires != null && clock.instant().isBefore(expires);
    }

    public void clear() {
        verified.clear();
        names.clear();
        principals.clear();
    }

    /**
     * Remembers who a credential (an Authorization header or session cookie) authenticated as, for use only while the
     * store cannot be reached: a node whose database is down (cluster mode keeps taking events into Redis) still knows
     * the emitters and users it saw within the last period. Never consulted while the store answers, so a revoked
     * token or ended session stops working at once.
     */
    void rememberPrincipal(String credential, Principal principal) {
        if (ttl.isZero()) return;
        Instant now = clock.instant();
        if (principals.size() >= MAX_ENTRIES) {
            principals.values().removeIf(r -> !now.isBefore(r.expires()));
            if (principals.size() >= MAX_ENTRIES) principals.clear();
        }
        principals.put(mac(credential, "", ""), new Recent(principal, now.plus(ttl)));
    }

    /**
     * Forgets who every credential was (rights changed: a superuser flag, a revoked token), so that a store outage
     * cannot bring back rights withdrawn before it; verified passwords stay, since they carry no rights.
     */
    public void clearPrincipals() {
        principals.clear();
    }

    void forgetPrincipal(String credential) {
        if (!principals.isEmpty()) principals.remove(mac(credential, "", ""));
    }

    /** Who the credential was within the last period, or null. */
    Principal recentPrincipal(String credential) {
        if (ttl.isZero()) return null;
        Recent r = principals.get(mac(credential, "", ""));
        return r == null || !clock.instant().isBefore(r.expires()) ? null : r.principal();
    }

    int size() {
        return verified.size();
    }

    /** A key naming this credential (username, password, stored hash) without holding it: the same keyed MAC. */
    String key(String username, String password, String storedHash) {
        return mac(username, password, storedHash);
    }

    private String mac(String username, String password, String storedHash) {
        Mac m = macs.get();
        // lengths first, so that no two different triples can run together into the same bytes
        for (String part : new String[] {username, password, storedHash}) {
            byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
            m.update(Integer.toString(bytes.length).getBytes(StandardCharsets.US_ASCII));
            m.update((byte) ':');
            m.update(bytes);
        }
        return Base64.getEncoder().encodeToString(m.doFinal());
    }

    private Mac newMac() {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(key);
            return m;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has HmacSHA256", e);
        }
    }
}
