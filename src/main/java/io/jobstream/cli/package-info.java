/**
 * The command line ({@link io.jobstream.cli.Main}): {@code serve} builds a {@link io.jobstream.config.Config} from
 * flags and environment and hands it to the server; the tools ({@code run}, {@code stats}, {@code lag},
 * {@code replay}, {@code import}, {@code callback-stats}, {@code load}, {@code config}) are HTTP clients of a node,
 * sending its credentials only to the node's own origin. Holds no pipeline logic: a tool that needs the event format
 * borrows it from {@code event} or {@code ingest}, never from the server's internals.
 */
package io.jobstream.cli;
