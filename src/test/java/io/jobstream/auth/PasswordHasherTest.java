package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;
import org.junit.jupiter.api.Test;

class PasswordHasherTest {
    /** Few iterations so the unit test stays fast; the format and the check are the same as with 600,000. */
    private final PasswordHasher fast = new PasswordHasher(new SecureRandom(), 1000);

    @Test
    void a_hash_is_in_djangos_pbkdf2_sha256_format_with_600000_iterations_and_a_random_salt() {
        PasswordHasher real = new PasswordHasher();
        String a = real.hash("secret");
        String b = real.hash("secret");
        assertThat(a).matches("pbkdf2_sha256\\$600000\\$[A-Za-z0-9]{22}\\$[A-Za-z0-9+/]{43}=");
        assertThat(a).as("a fresh salt each time").isNotEqualTo(b);
        assertThat(real.verify("secret", a)).isTrue();
    }

    @Test
    void the_hash_matches_what_django_and_python_compute_for_the_same_password_salt_and_iterations() {
        // python3 -c "import hashlib,base64; print(base64.b64encode(hashlib.pbkdf2_hmac('sha256',
        //     'pässword'.encode(), b'seasalt', 1000)).decode())"  (what Django's PBKDF2PasswordHasher does)
        assertThat(PasswordHasher.encode("pässword", "seasalt", 1000))
                .isEqualTo("pbkdf2_sha256$1000$seasalt$EqCL4TJDvY77OVYjQped2t9qDQ3xEdvvzv1yQvLuPH0=");
        assertThat(fast.verify("pässword", "pbkdf2_sha256$1000$seasalt$EqCL4TJDvY77OVYjQped2t9qDQ3xEdvvzv1yQvLuPH0="))
                .isTrue();
    }

    @Test
    void a_wrong_password_is_refused() {
        String hash = fast.hash("right");
        assertThat(fast.verify("wrong", hash)).isFalse();
        assertThat(fast.verify("", hash)).isFalse();
        assertThat(fast.verify("Right", hash)).isFalse();
    }

    @Test
    void verifying_uses_the_iterations_stored_in_the_hash() {
        String old = PasswordHasher.encode("pw", "salt", 1000);
        assertThat(new PasswordHasher().verify("pw", old)).isTrue();
    }

    @Test
    void anything_not_in_the_format_is_refused_without_an_exception() {
        for (String bad : new String[] {
            "",
            "pw",
            "md5$1$salt$hash",
            "pbkdf2_sha256$x$salt$hash",
            "pbkdf2_sha256$1000$salt$not base64!",
            "pbkdf2_sha256$1000$salt",
            "pbkdf2_sha256$0$salt$AAAA"
        }) {
            assertThat(fast.verify("pw", bad)).as(bad).isFalse();
        }
        assertThat(fast.verify(null, fast.hash("pw"))).isFalse();
    }
}
