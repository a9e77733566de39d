package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Kept timeline answers ({@link RenderedBodies}): the current time put back in, and the byte bound. */
class RenderedBodiesTest {
    private static byte[] body(String now, int pad) {
        return ("{\"job\":1,\"now\":\"" + now + "\",\"tasks\":\"" + "x".repeat(pad) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void a_kept_body_comes_back_with_the_current_now_and_nothing_else_changed() {
        RenderedBodies kept = new RenderedBodies(1000);
        kept.put("a", body("2026-12-06T17:00:00.000001Z", 10));
        assertThat(new String(kept.get("a", "2026-12-06T18:30:00.123456Z"), StandardCharsets.UTF_8))
                .isEqualTo(new String(body("2026-12-06T18:30:00.123456Z", 10), StandardCharsets.UTF_8));
        assertThat(new String(kept.get("a", "x"), StandardCharsets.UTF_8))
                .as("a now of another length")
                .isEqualTo(new String(body("x", 10), StandardCharsets.UTF_8));
        assertThat(kept.get("b", "x")).isNull();
    }

    @Test
    void the_bound_holds_the_least_recently_used_going_first_and_an_oversized_or_nowless_body_is_not_kept() {
        RenderedBodies kept = new RenderedBodies(300);
        kept.put("a", body("t", 100)); // ~130 bytes each
        kept.put("b", body("t", 100));
        kept.get("a", "t"); // a used last
        kept.put("c", body("t", 100));
        assertThat(kept.get("b", "t")).isNull();
        assertThat(kept.get("a", "t")).isNotNull();
        assertThat(kept.get("c", "t")).isNotNull();
        assertThat(kept.total()).isLessThanOrEqualTo(300);
        kept.put("big", body("t", 400));
        assertThat(kept.get("big", "t")).isNull();
        kept.put("nowless", "{\"job\":1}".getBytes(StandardCharsets.UTF_8));
        assertThat(kept.get("nowless", "t")).isNull();
        kept.put("a", body("t", 10)); // replaced: counted once
        assertThat(kept.total()).isEqualTo(body("t", 10).length + body("t", 100).length);
    }
}
