/**
 * The command line: {@code serve}, {@code config defaults} (more tools arrive with their issues). Parses flags into
 * the config loader's layers and hands a {@link io.jobstream.config.Config} to the server; holds no pipeline logic.
 */
package io.jobstream.cli;
