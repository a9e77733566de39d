/**
 * The "show" stage's server side: serves the web UI's pages and static assets from the jar, and hands each
 * browser the {@code csrftoken} cookie it echoes as {@code xrftoken} on the websocket.
 * Owns no state beyond an immutable asset cache; never reads events, jobs or the database (the pages talk to
 * the REST API and the websocket themselves).
 */
package io.jobstream.ui;
