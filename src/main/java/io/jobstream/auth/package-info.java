/**
 * Who is asking, and what they may see: users (Django-format password hashes), login sessions, bearer and ingest
 * tokens, CSRF, and the per-job visibility rule that REST, stdout, websocket and ingest all apply. Owns the HTTP gate
 * ({@link io.jobstream.auth.AuthFilter}) and the user/team/token API. Keeps its rows through {@link
 * io.jobstream.auth.AuthStore} (JDBC lives in {@code postgres}); never logs a password, token or Authorization header.
 */
package io.jobstream.auth;
