/**
 * Who is asking, and what they may see and write: users (Django-format password hashes), login sessions, bearer and
 * ingest tokens, CSRF, the per-job visibility rule that REST, stdout, websocket and ingest all apply, and the one
 * write rule ({@link io.jobstream.auth.JobAccess}) that decides who may create and write which job. Owns the HTTP gate
 * ({@link io.jobstream.auth.AuthFilter}), the user/team/token API, and what one user or client may cost (password
 * guessing, tokens, jobs, partitions). Keeps its rows through {@link io.jobstream.auth.AuthStore} (JDBC lives in
 * {@code postgres}); never logs a password, token or Authorization header.
 */
package io.jobstream.auth;
