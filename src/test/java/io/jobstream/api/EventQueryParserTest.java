package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jobstream.api.EventQuery.Field;
import io.jobstream.api.EventQuery.Filter;
import io.jobstream.api.EventQuery.Lookup;
import io.jobstream.api.EventQuery.Sort;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EventQueryParserTest {

    private static Map<String, List<String>> params(String... kv) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2)
            m.computeIfAbsent(kv[i], k -> new java.util.ArrayList<>()).add(kv[i + 1]);
        return m;
    }

    private static EventQueryParser.Request parse(String... kv) {
        return EventQueryParser.parse(params(kv));
    }

    @Test
    void defaults_are_page_1_of_25_in_counter_order_with_count_and_truncation() {
        EventQueryParser.Request r = parse();
        assertThat(r.shape()).isEqualTo(EventQueryParser.Shape.PAGED);
        assertThat(r.query().limit()).isEqualTo(25);
        assertThat(r.query().offset()).isZero();
        assertThat(r.query().withCount()).isTrue();
        assertThat(r.query().sort()).containsExactly(new Sort(Field.COUNTER, false));
        assertThat(r.query().stdoutPrefix()).isEqualTo(1025);
    }

    @Test
    void page_size_above_200_is_capped_and_pages_become_offsets() {
        EventQueryParser.Request r = parse("page", "3", "page_size", "500");
        assertThat(r.query().limit()).isEqualTo(200);
        assertThat(r.query().offset()).isEqualTo(400);
    }

    @Test
    void limit_switches_to_the_count_free_shape() {
        EventQueryParser.Request r = parse("order_by", "-counter", "limit", "1");
        assertThat(r.shape()).isEqualTo(EventQueryParser.Shape.LIMIT);
        assertThat(r.query().withCount()).isFalse();
        assertThat(r.query().limit()).isEqualTo(1);
        assertThat(r.query().sort()).containsExactly(new Sort(Field.COUNTER, true));
    }

    @Test
    void count_disabled_asks_for_no_count() {
        EventQueryParser.Request r = parse("count_disabled", "1");
        assertThat(r.shape()).isEqualTo(EventQueryParser.Shape.COUNT_DISABLED);
        assertThat(r.query().withCount()).isFalse();
    }

    @Test
    void a_page_that_is_not_a_positive_number_is_an_invalid_page() {
        assertThatThrownBy(() -> parse("page", "0"))
                .isInstanceOf(ApiError.class)
                .hasMessage("Invalid page.");
        assertThatThrownBy(() -> parse("page", "x"))
                .isInstanceOf(ApiError.class)
                .hasMessage("Invalid page.");
    }

    @Test
    void counter_ranges_become_typed_comparisons() {
        List<Filter> f =
                parse("counter__gt", "43", "counter__lte", "45").query().filters();
        assertThat(f)
                .containsExactly(
                        new Filter(Field.COUNTER, Lookup.GT, false, List.of(43L)),
                        new Filter(Field.COUNTER, Lookup.LTE, false, List.of(45L)));
    }

    @Test
    void not_stdout_empty_excludes_events_without_output() {
        assertThat(parse("not__stdout", "").query().filters())
                .containsExactly(new Filter(Field.STDOUT, Lookup.EXACT, true, List.of("")));
    }

    @Test
    void search_is_icontains_on_stdout_and_booleans_are_parsed() {
        assertThat(parse("search", "fatal", "failed", "true", "changed", "0")
                        .query()
                        .filters())
                .containsExactly(
                        new Filter(Field.STDOUT, Lookup.ICONTAINS, false, List.of("fatal")),
                        new Filter(Field.FAILED, Lookup.EXACT, false, List.of(true)),
                        new Filter(Field.CHANGED, Lookup.EXACT, false, List.of(false)));
    }

    @Test
    void in_lookup_splits_on_commas() {
        assertThat(parse("event__in", "runner_on_ok,runner_on_failed").query().filters())
                .containsExactly(
                        new Filter(Field.EVENT, Lookup.IN, false, List.of("runner_on_ok", "runner_on_failed")));
    }

    @Test
    void bad_filter_values_and_names_are_refused_with_a_reason() {
        assertThatThrownBy(() -> parse("counter__gt", "abc"))
                .isInstanceOf(ApiError.class)
                .hasMessage("counter__gt: 'abc' is not an integer");
        assertThatThrownBy(() -> parse("failed", "maybe")).hasMessageContaining("is not a boolean");
        assertThatThrownBy(() -> parse("bogus", "1")).hasMessageContaining("unknown field 'bogus'");
        assertThatThrownBy(() -> parse("counter__icontains", "1")).hasMessageContaining("does not apply");
        assertThatThrownBy(() -> parse("uuid__regex", "a.*")).hasMessageContaining("unsupported lookup 'regex'");
        assertThatThrownBy(() -> parse("order_by", "stdout")).hasMessageContaining("cannot order by 'stdout'");
        assertThatThrownBy(() -> parse("created__gt", "yesterday")).hasMessageContaining("ISO-8601");
        assertThat(((ApiError) org.assertj.core.api.Assertions.catchThrowable(() -> parse("bogus", "1"))).status)
                .isEqualTo(400);
    }

    @Test
    void explicit_order_gets_counter_as_tiebreak_in_the_same_direction() {
        assertThat(parse("order_by", "-start_line,host_name").query().sort())
                .containsExactly(
                        new Sort(Field.START_LINE, true),
                        new Sort(Field.HOST_NAME, false),
                        new Sort(Field.COUNTER, true));
    }

    @Test
    void no_truncate_asks_for_whole_stdout() {
        EventQueryParser.Request r = parse("no_truncate", "1");
        assertThat(r.noTruncate()).isTrue();
        assertThat(r.query().stdoutPrefix()).isZero();
    }
}
