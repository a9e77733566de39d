/**
 * Wiring and lifecycle. {@link io.jobstream.server.Backends} is the one place that picks memory or Redis (queue,
 * broadcast, what comes with a cluster); {@link io.jobstream.server.Server} builds every other component with plain
 * constructors and owns the start and stop order of every stage; the HTTP side, health and stats endpoints live here
 * too. Other packages never construct their collaborators.
 */
package io.jobstream.server;
