package io.jobstream.testing;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The JDK HTTP client with the few calls end-to-end tests make. Requests carry the test admin's credentials
 * ({@link TestUsers#ADMIN_AUTH}) unless a call names its own {@code authorization} (null: none at all).
 */
public final class Http {
    private static final HttpClient CLIENT =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Http() {}

    public static HttpResponse<String> post(URI uri, String body) {
        return post(uri, body, TestUsers.ADMIN_AUTH);
    }

    public static HttpResponse<String> post(URI uri, String body, String authorization) {
        return send(authorized(HttpRequest.newBuilder(uri), authorization)
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build());
    }

    /** A JSON POST (the API's writes: users, teams, tokens, launches). */
    public static HttpResponse<String> postJson(URI uri, String json, String authorization) {
        return send(authorized(HttpRequest.newBuilder(uri), authorization)
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build());
    }

    public static HttpResponse<String> get(URI uri) {
        return get(uri, TestUsers.ADMIN_AUTH);
    }

    public static HttpResponse<String> get(URI uri, String authorization) {
        return send(authorized(HttpRequest.newBuilder(uri), authorization)
                .timeout(Duration.ofSeconds(60))
                .GET()
                .build());
    }

    public static HttpResponse<String> delete(URI uri, String authorization) {
        return send(authorized(HttpRequest.newBuilder(uri), authorization)
                .timeout(Duration.ofSeconds(60))
                .DELETE()
                .build());
    }

    /** Adds the Authorization header unless {@code authorization} is null. */
    public static HttpRequest.Builder authorized(HttpRequest.Builder request, String authorization) {
        if (authorization != null) request.header("Authorization", authorization);
        return request;
    }

    public static JsonNode getJson(URI uri) {
        HttpResponse<String> r = get(uri);
        if (r.statusCode() != 200)
            throw new AssertionError("GET " + uri + " answered " + r.statusCode() + ": " + r.body());
        return json(r.body());
    }

    public static JsonNode json(String text) {
        try {
            return Json.MAPPER.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Any request, with this class's client (e.g. one with cookies and a CSRF header). */
    public static HttpResponse<String> send(HttpRequest request) {
        try {
            return CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
