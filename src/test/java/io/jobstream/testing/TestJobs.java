package io.jobstream.testing;

import java.net.URI;
import java.net.http.HttpResponse;

/** Jobs for tests, made the way a user gets one: the node allocates it (users cannot choose job ids). */
public final class TestJobs {
    private TestJobs() {}

    /** A fresh job owned by the user behind {@code authorization} (an ingest token made without a job); its id. */
    public static long allocate(URI node, String authorization) {
        HttpResponse<String> token =
                Http.postJson(node.resolve("/api/v2/tokens/"), "{\"kind\":\"ingest\"}", authorization);
        if (token.statusCode() != 201) {
            throw new AssertionError("allocating a job answered " + token.statusCode() + ": " + token.body());
        }
        return Http.json(token.body()).get("job").asLong();
    }
}
