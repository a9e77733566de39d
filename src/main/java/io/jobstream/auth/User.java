package io.jobstream.auth;

import java.time.Instant;

/** One row of {@code auth_user}; {@code passwordHash} is Django's encoded form and never leaves the node. */
public record User(long id, String username, boolean superuser, String passwordHash, Instant created) {}
