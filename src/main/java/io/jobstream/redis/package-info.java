/**
 * Cluster mode: every class that imports the Redis client. {@link io.jobstream.redis.RedisEventQueue} (the durable
 * event stream with a consumer group), {@link io.jobstream.redis.CallbackTasks} (AWX's {@code callback_tasks} list),
 * {@link io.jobstream.redis.RedisBroadcaster} (cross-node fan-out) and {@link io.jobstream.redis.RedisNodes}
 * (heartbeats, node discovery, cluster statistics). Only {@code server.Server} decides to use them.
 */
package io.jobstream.redis;
