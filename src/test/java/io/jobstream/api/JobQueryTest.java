package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JobQueryTest {
    @Test
    void reads_the_filters_awxkit_sends() {
        JobQuery q = JobQuery.parse(Map.of(
                "id", List.of("7"),
                "name", List.of("hello.yml"),
                "status__in", List.of("failed,error"),
                "failed", List.of("True"),
                "order_by", List.of("-name"),
                "page_size", List.of("5")));
        assertThat(q.ids()).containsExactly(7L);
        assertThat(q.name()).isEqualTo("hello.yml");
        assertThat(q.statuses()).containsExactly("failed", "error");
        assertThat(q.failed()).isTrue();
        assertThat(q.order()).isEqualTo("name");
        assertThat(q.descending()).isTrue();
    }

    @Test
    void without_an_order_lists_newest_first() {
        assertThat(JobQuery.parse(Map.of())).isEqualTo(JobQuery.ALL);
    }

    @Test
    void refuses_unknown_filters_columns_and_bad_values_with_the_reason() {
        for (Map<String, List<String>> bad : List.of(
                Map.of("order_by", List.of("id; DROP TABLE job")),
                Map.of("order_by", List.of("job_explanation")),
                Map.of("inventory", List.of("1")),
                Map.of("id", List.of("1 OR 1=1")),
                Map.of("status", List.of("done")),
                Map.of("failed", List.of("maybe")),
                Map.of("name", List.of("a\0b")),
                Map.of("search", List.of("x".repeat(5000))))) {
            assertThatThrownBy(() -> JobQuery.parse(bad))
                    .as(bad.toString())
                    .isInstanceOf(ApiError.class)
                    .satisfies(e -> assertThat(((ApiError) e).status).isEqualTo(400));
        }
    }
}
