/**
 * Every class that speaks to PostgreSQL through the JDBC driver: the embedded server, the pool, migrations and the
 * database's health check, the binary-COPY event store (the write side of stage 3), the auth store (with its teams and
 * tokens parts) and the read queries behind the REST API. Stores share plumbing ({@code Statements}) and rules
 * ({@code JobVisibility}), never each other. Nothing here knows about HTTP or websockets; other packages see only the
 * interfaces these implement.
 */
package io.jobstream.postgres;
