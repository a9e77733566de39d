/**
 * Configuration: every setting with its default, environment variable and one-line doc in {@link
 * io.jobstream.config.Settings}; layered loading (defaults, then environment, then flags) and validation in
 * {@link io.jobstream.config.ConfigLoader}; the immutable {@link io.jobstream.config.Config} tree it produces.
 * Nothing outside this package reads the environment.
 */
package io.jobstream.config;
