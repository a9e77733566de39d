/**
 * The one place that picks implementations (embedded or external PostgreSQL, memory queue and broadcast) and owns
 * the start and stop order of every stage. Other packages never construct their collaborators.
 */
package io.jobstream.server;
