package io.jobstream.persist;

import java.time.Instant;

/**
 * Why the store refuses writes right now (see {@link StoreException#cannotWrite}), as the receiver last saw it.
 *
 * @param since when the current run of failures began
 */
public record StoreTrouble(String tag, String reason, Instant since) {}
