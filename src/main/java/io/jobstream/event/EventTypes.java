package io.jobstream.event;

import java.util.Map;
import java.util.Set;

/** AWX's playbook event types (reference §2.11): level, display text, and which ones mean failure. */
public final class EventTypes {
    private record Type(int level, String display) {}

    private static final Map<String, Type> TYPES = Map.ofEntries(
            Map.entry("runner_on_failed", new Type(3, "Host Failed")),
            Map.entry("runner_on_start", new Type(3, "Host Started")),
            Map.entry("runner_on_ok", new Type(3, "Host OK")),
            Map.entry("runner_on_error", new Type(3, "Host Failure")),
            Map.entry("runner_on_skipped", new Type(3, "Host Skipped")),
            Map.entry("runner_on_unreachable", new Type(3, "Host Unreachable")),
            Map.entry("runner_on_no_hosts", new Type(3, "No Hosts Remaining")),
            Map.entry("runner_on_async_poll", new Type(3, "Host Polling")),
            Map.entry("runner_on_async_ok", new Type(3, "Host Async OK")),
            Map.entry("runner_on_async_failed", new Type(3, "Host Async Failure")),
            Map.entry("runner_item_on_ok", new Type(3, "Item OK")),
            Map.entry("runner_item_on_failed", new Type(3, "Item Failed")),
            Map.entry("runner_item_on_skipped", new Type(3, "Item Skipped")),
            Map.entry("runner_retry", new Type(3, "Host Retry")),
            Map.entry("runner_on_file_diff", new Type(3, "File Difference")),
            Map.entry("playbook_on_start", new Type(0, "Playbook Started")),
            Map.entry("playbook_on_notify", new Type(2, "Running Handlers")),
            Map.entry("playbook_on_include", new Type(2, "Including File")),
            Map.entry("playbook_on_no_hosts_matched", new Type(2, "No Hosts Matched")),
            Map.entry("playbook_on_no_hosts_remaining", new Type(2, "No Hosts Remaining")),
            Map.entry("playbook_on_task_start", new Type(2, "Task Started")),
            Map.entry("playbook_on_vars_prompt", new Type(1, "Variables Prompted")),
            Map.entry("playbook_on_setup", new Type(2, "Gathering Facts")),
            Map.entry("playbook_on_import_for_host", new Type(2, "internal: on Import for Host")),
            Map.entry("playbook_on_not_import_for_host", new Type(2, "internal: on Not Import for Host")),
            Map.entry("playbook_on_play_start", new Type(1, "Play Started")),
            Map.entry("playbook_on_stats", new Type(1, "Playbook Complete")),
            Map.entry("debug", new Type(0, "Debug")),
            Map.entry("verbose", new Type(0, "Verbose")),
            Map.entry("deprecated", new Type(0, "Deprecated")),
            Map.entry("warning", new Type(0, "Warning")),
            Map.entry("system_warning", new Type(0, "System Warning")),
            Map.entry("error", new Type(0, "Error")));

    private static final Set<String> FAILED = Set.of(
            "runner_on_failed",
            "runner_on_error",
            "runner_on_unreachable",
            "runner_on_async_failed",
            "runner_item_on_failed",
            "error");

    private EventTypes() {}

    /** Unknown types are level 0, as in AWX. */
    public static int level(String event) {
        Type t = TYPES.get(event);
        return t == null ? 0 : t.level();
    }

    /** AWX's {@code event_display}; an unknown type is shown as its own name. */
    public static String display(String event) {
        Type t = TYPES.get(event);
        return t == null ? event : t.display();
    }

    public static boolean isFailure(String event) {
        return FAILED.contains(event);
    }
}
