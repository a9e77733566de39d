package io.jobstream.cli;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import picocli.CommandLine.Option;

/**
 * How the client tools authenticate to a node, in this order: {@code --token} (a bearer token, env
 * {@code JOBSTREAM_TOKEN}), {@code --user}/{@code --password} (HTTP Basic, env {@code JOBSTREAM_USER} and
 * {@code JOBSTREAM_PASSWORD}), else the admin token a local node keeps in {@code <data-dir>/cli-token} (so on the
 * machine that runs {@code ./jobstream serve}, the tools work with no flags). A picocli mixin.
 */
final class Credentials {
    @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:JOBSTREAM_TOKEN:-}",
            description = "Bearer token (POST /api/v2/tokens/ makes one). Env JOBSTREAM_TOKEN.")
    String token;

    @Option(names = "--user", paramLabel = "USER", defaultValue = "${env:JOBSTREAM_USER:-}",
            description = "User for HTTP Basic (with --password). Env JOBSTREAM_USER.")
    String user;

    @Option(names = "--password", paramLabel = "PASSWORD", defaultValue = "${env:JOBSTREAM_PASSWORD:-}",
            description = "Password for --user; prefer the env JOBSTREAM_PASSWORD (flags show in ps).")
    String password;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${env:JOBSTREAM_DATA_DIR:-./data}",
            description = "A local node's data dir, whose cli-token is used when no other credential is given."
                    + " Default: ${DEFAULT-VALUE}.")
    Path dataDir;

    /** The Authorization header value, or null when there is no credential at all. */
    String authorization() {
        if (token != null && !token.isBlank()) return "Bearer " + token.trim();
        if (user != null && !user.isEmpty()) {
            String pair = user + ":" + (password == null ? "" : password);
            return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
        }
        Path file = dataDir == null ? null : dataDir.resolve("cli-token");
        if (file != null && Files.isReadable(file)) {
            try {
                String t = Files.readString(file, StandardCharsets.UTF_8).trim();
                if (!t.isEmpty()) return "Bearer " + t;
            } catch (IOException e) {
                return null;
            }
        }
        return null;
    }

    HttpRequest.Builder apply(HttpRequest.Builder request) {
        String auth = authorization();
        if (auth != null) request.header("Authorization", auth);
        return request;
    }
}
