package io.jobstream.websocket;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jobstream.event.Json;
import java.util.List;
import java.util.Map;

/**
 * The server's protocol replies, worded exactly as AWX's {@code EventConsumer} words them (reference §4.2, §4.3).
 * Pure formatting of values: it knows no connection and calls nothing back.
 */
final class Replies {
    static final String ACCESS_DENIED = error("access denied to channel");
    static final String MALFORMED = error("malformed message");

    private Replies() {}

    static String accept(long userId) {
        ObjectNode reply = Json.MAPPER.createObjectNode();
        reply.put("accept", true);
        reply.put("user", userId);
        return text(reply);
    }

    static String error(String message) {
        return text(Json.MAPPER.createObjectNode().put("error", message));
    }

    static String deniedResource(String name, String id) {
        return error("access denied to channel " + name + " for resource id " + id);
    }

    /** AWX's reply to a subscribe; {@code resumed} (job id to counter) only when the client sent a resume. */
    static String groups(List<String> current, List<String> left, List<String> joined, Map<Long, Integer> resumed) {
        ObjectNode reply = Json.MAPPER.createObjectNode();
        array(reply.putArray("groups_current"), current);
        array(reply.putArray("groups_left"), left);
        array(reply.putArray("groups_joined"), joined);
        // only when the client sent a resume: AWX clients never do, so their reply stays AWX's
        if (!resumed.isEmpty()) {
            ObjectNode node = reply.putObject("resumed");
            resumed.forEach((job, counter) -> node.put(Long.toString(job), counter));
        }
        return text(reply);
    }

    private static void array(ArrayNode node, List<String> values) {
        values.forEach(node::add);
    }

    private static String text(ObjectNode node) {
        try {
            return Json.MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException impossible) { // a tree of strings and numbers always serialises
            throw new IllegalStateException(impossible);
        }
    }
}
