package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PageLinksTest {
    private static final String PATH = "/api/v2/jobs/7/job_events/";

    @Test
    void next_replaces_the_page_and_keeps_other_parameters() {
        assertThat(PageLinks.next(PATH, "page=2&page_size=10&event=runner_on_ok", 2, 10, 31))
                .isEqualTo(PATH + "?page_size=10&event=runner_on_ok&page=3");
    }

    @Test
    void the_last_page_has_no_next() {
        assertThat(PageLinks.next(PATH, "page=4&page_size=10", 4, 10, 31)).isNull();
        assertThat(PageLinks.next(PATH, null, 1, 25, 25)).isNull();
    }

    @Test
    void previous_of_page_2_drops_the_page_parameter() {
        assertThat(PageLinks.previous(PATH, "page=2", 2)).isEqualTo(PATH);
        assertThat(PageLinks.previous(PATH, "page=1", 1)).isNull();
    }
}
