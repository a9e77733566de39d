package io.jobstream.auth;

import java.time.Instant;

public record Team(long id, String name, Instant created) {}
