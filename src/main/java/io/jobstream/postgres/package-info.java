/**
 * Every class that speaks to PostgreSQL through the JDBC driver: the embedded server, the pool and migrations,
 * the binary-COPY event store (the write side of stage 3) and the read queries behind the REST API.
 * Nothing here knows about HTTP or websockets; other packages see only the interfaces these classes implement.
 */
package io.jobstream.postgres;
