package io.jobstream.broadcast;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jobstream.event.JobEvent;
import io.jobstream.event.Json;
import io.jobstream.event.StoredEvent;
import io.jobstream.event.Timestamps;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-event websocket frame, built as {@link EventMessages} does it against the obvious alternative of
 * parsing {@code event_data} into a tree and serialising the whole message with the ObjectMapper.
 *
 * <p>Run: {@code java -cp target/test-classes:target/classes:<test classpath> org.openjdk.jmh.Main EventMessagesBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class EventMessagesBenchmark {
    private final StoredEvent stored = typicalEvent();

    @Benchmark
    public String generatorWithRawEventData() {
        return EventMessages.event(stored);
    }

    @Benchmark
    public String objectMapperTree() throws Exception {
        JobEvent e = stored.event();
        String created = Timestamps.format(e.created());
        ObjectNode m = Json.MAPPER.createObjectNode();
        m.put("id", stored.id())
                .put("job", e.jobId())
                .put("created", created)
                .put("modified", created)
                .put("group_name", "job_events")
                .put("url", "/api/v2/job_events/" + stored.id())
                .put("stdout", e.stdout())
                .put("counter", e.counter())
                .put("uuid", e.uuid())
                .put("parent_uuid", e.parentUuid())
                .put("start_line", e.startLine())
                .put("end_line", e.endLine())
                .put("event", e.event());
        m.set("event_data", Json.MAPPER.readTree(e.eventData()));
        m.put("failed", e.failed())
                .put("changed", e.changed())
                .put("event_level", e.level())
                .put("play", e.play())
                .put("role", e.role())
                .put("task", e.task());
        return Json.MAPPER.writeValueAsString(m);
    }

    private static StoredEvent typicalEvent() {
        String data = "{\"playbook\":\"site.yml\",\"playbook_uuid\":\"6a0b2c2e-1c4e-4c55-9a0e-3d7c1f1f0001\","
                + "\"play\":\"all\",\"play_uuid\":\"0242ac11-0002-1f2e-0000-000000000008\",\"play_pattern\":\"all\","
                + "\"task\":\"ping\",\"task_uuid\":\"0242ac11-0002-1f2e-0000-00000000000c\",\"task_action\":\"ping\","
                + "\"resolved_action\":\"ansible.builtin.ping\",\"task_args\":\"\",\"task_path\":\"/runner/project/"
                + "site.yml:3\",\"host\":\"web1\",\"remote_addr\":\"web1\",\"res\":{\"ping\":\"pong\",\"invocation\":"
                + "{\"module_args\":{\"data\":\"pong\"}},\"_ansible_no_log\":false,\"changed\":false},\"start\":"
                + "\"2024-10-23T15:30:01.000001\",\"end\":\"2024-10-23T15:30:01.123456\",\"duration\":0.123455,"
                + "\"event_loop\":null,\"uuid\":\"3b5f3a52-4d0e-4e43-8e0f-000000000010\"}";
        JobEvent event = new JobEvent(
                42,
                7,
                "3b5f3a52-4d0e-4e43-8e0f-000000000010",
                "0242ac11-0002-1f2e-0000-00000000000c",
                "runner_on_ok",
                data,
                "\u001b[0;32mok: [web1]\u001b[0m",
                9,
                10,
                0,
                "web1",
                "site.yml",
                "all",
                "",
                "ping",
                false,
                false,
                TestEvents.CREATED,
                false,
                TestEvents.CREATED);
        return new StoredEvent(981234, event, TestEvents.CREATED);
    }
}
