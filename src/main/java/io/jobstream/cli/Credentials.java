package io.jobstream.cli;

import io.jobstream.auth.CliTokenOrigin;
import io.jobstream.auth.NodeTokens;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * How the client tools authenticate to a node, in this order: a bearer token (env {@code JOBSTREAM_TOKEN},
 * {@code --token-file}, or {@code --token}), a user and password for HTTP Basic ({@code --user} with env
 * {@code JOBSTREAM_PASSWORD}, {@code --password-file}, or {@code --password}), else the admin token a local node keeps
 * in {@code <data-dir>/cli-token} (so on the machine that runs {@code ./jobstream serve}, the tools work with no
 * flags). A picocli mixin.
 *
 * <p>Secrets on the command line show in every user's process list, so the documented ways are the environment and
 * files (and {@code --token}/{@code --password} given without a value ask for it on the terminal). The local
 * cli-token is an admin's, so it goes only to the node that wrote it ({@link CliTokenOrigin}): any other
 * {@code --url} gets no credentials unless the user names some.
 */
final class Credentials {
    @Option(
            names = "--token",
            paramLabel = "TOKEN",
            arity = "0..1",
            interactive = true,
            defaultValue = "${env:JOBSTREAM_TOKEN:-}",
            description = "Bearer token; prefer env JOBSTREAM_TOKEN or --token-file (a value here shows in ps)."
                    + " Without a value: asked for on the terminal.")
    String token;

    @Option(names = "--token-file", paramLabel = "FILE", description = "Read the bearer token from this file.")
    Path tokenFile;

    @Option(
            names = "--user",
            paramLabel = "USER",
            defaultValue = "${env:JOBSTREAM_USER:-}",
            description = "User for HTTP Basic (password from env JOBSTREAM_PASSWORD, --password-file or a prompt)."
                    + " Env JOBSTREAM_USER.")
    String user;

    @Option(
            names = "--password",
            paramLabel = "PASSWORD",
            arity = "0..1",
            interactive = true,
            defaultValue = "${env:JOBSTREAM_PASSWORD:-}",
            description = "Password for --user; prefer env JOBSTREAM_PASSWORD or --password-file (a value here shows"
                    + " in ps). Without a value: asked for on the terminal.")
    String password;

    @Option(
            names = "--password-file",
            paramLabel = "FILE",
            description = "Read the password for --user from this file.")
    Path passwordFile;

    @Option(
            names = "--data-dir",
            paramLabel = "DIR",
            defaultValue = "${env:JOBSTREAM_DATA_DIR:-./data}",
            description = "A local node's data dir: its cli-token is used, when no other credential is given, for"
                    + " that node's own URL only. Default: ${DEFAULT-VALUE}.")
    Path dataDir;

    /** Said once per run, when the local token is held back. */
    private boolean warned;

    /** A request to {@code target} with this tool's credentials for it. */
    HttpRequest.Builder request(URI target) {
        HttpRequest.Builder request = HttpRequest.newBuilder(target);
        String auth = authorization(target);
        if (auth != null) request.header("Authorization", auth);
        return request;
    }

    /** The Authorization header value for {@code target}, or null when there is no credential for it. */
    String authorization(URI target) {
        String bearer = secret(token, tokenFile);
        if (bearer != null) return "Bearer " + bearer;
        if (user != null && !user.isEmpty()) {
            String pass = secret(password, passwordFile);
            String pair = user + ":" + (pass == null ? "" : pass);
            return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
        }
        return localToken(target);
    }

    private String localToken(URI target) {
        if (dataDir == null) return null;
        Path file = dataDir.resolve(NodeTokens.CLI_TOKEN_FILE);
        if (!Files.isReadable(file)) return null;
        Optional<CliTokenOrigin> origin = CliTokenOrigin.read(dataDir);
        if (origin.isEmpty() || !origin.get().admits(target)) {
            if (!warned) {
                System.err.println("jobstream: not sending " + file + " to " + target + ": it is the admin token of "
                        + origin.map(o -> "the node at " + o.origin() + " (pid " + o.pid() + ")")
                                .orElse("a node that is not running")
                        + "; give JOBSTREAM_TOKEN or --token-file for this one");
                warned = true;
            }
            return null;
        }
        try {
            String t = Files.readString(file, StandardCharsets.UTF_8).trim();
            return t.isEmpty() ? null : "Bearer " + t;
        } catch (IOException e) {
            return null;
        }
    }

    /** The value given (flag, prompt or env), else the file's first line; null when neither. */
    private static String secret(String value, Path file) {
        if (value != null && !value.isBlank()) return value.trim();
        if (file == null) return null;
        try {
            String s = Files.readString(file, StandardCharsets.UTF_8)
                    .lines()
                    .findFirst()
                    .orElse("")
                    .trim();
            if (s.isEmpty()) throw new IllegalArgumentException(file + " is empty");
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
