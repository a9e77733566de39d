package io.jobstream.api;

import java.time.Instant;
import java.util.Objects;

/**
 * What {@code /api/v2/ping/} says about this node.
 *
 * @param version jobstream's version
 * @param node    this node's name (host name, or as configured)
 * @param started when this node started
 */
public record NodeInfo(String version, String node, Instant started) {
    public NodeInfo {
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(started, "started");
    }
}
