/**
 * Rate limits (issue 14): one keyed {@link io.jobstream.limit.Rate} for every "at most N per period" of the node —
 * emitters' events, failed logins, launches, websocket messages and subscribes, new partitions — and
 * {@link io.jobstream.limit.Concurrency} for "at most N at once" per key. Sits at the bottom with event, config and
 * metrics: it knows no stage, and holds no thread of its own.
 */
package io.jobstream.limit;
