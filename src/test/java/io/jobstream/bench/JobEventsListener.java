package io.jobstream.bench;

import io.jobstream.event.Timestamps;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletionStage;

/**
 * A benchmark's websocket subscriber of one job: joins its {@code job_events} group, reassembles frames and hands each
 * job event's counter and lag (now − created, in microseconds) to {@link #event}; everything else is ignored. Called on
 * the JDK client's thread, one frame at a time.
 */
abstract class JobEventsListener implements WebSocket.Listener {
    private final StringBuilder partial = new StringBuilder();

    /** One event of the job, in arrival order. */
    abstract void event(int counter, long lagMicros);

    /** Opens a websocket as {@code authorization} and subscribes {@code listener} to {@code job}'s events. */
    static <L extends JobEventsListener> L subscribe(
            HttpClient http, URI uri, String authorization, long job, L listener) {
        WebSocket ws = http.newWebSocketBuilder()
                .header("Authorization", authorization)
                .header("Cookie", "csrftoken=bench")
                .buildAsync(uri, listener)
                .join();
        ws.sendText("{\"xrftoken\":\"bench\",\"groups\":{\"job_events\":[" + job + "]}}", true)
                .join();
        return listener;
    }

    @Override
    public void onOpen(WebSocket ws) {
        ws.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            frame(partial.toString());
            partial.setLength(0);
        }
        ws.request(1);
        return null;
    }

    private void frame(String s) {
        int i = s.indexOf("\"created\":\"");
        if (i < 0 || !s.contains("\"group_name\":\"job_events\"")) return;
        Instant created = Timestamps.parse(s.substring(i + 11, s.indexOf('"', i + 11)));
        long lag = Duration.between(created, Instant.now()).toNanos() / 1000;
        int c = s.indexOf("\"counter\":");
        event(Integer.parseInt(s.substring(c + 10, s.indexOf(',', c))), lag);
    }
}
