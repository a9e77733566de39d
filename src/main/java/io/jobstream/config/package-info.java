/**
 * Configuration: every setting with its default, environment variable and one-line doc in {@link
 * io.jobstream.config.Settings}; layered loading (defaults, then environment, then flags) and validation in
 * {@link io.jobstream.config.ConfigLoader}; the immutable {@link io.jobstream.config.Config} tree it produces;
 * {@link io.jobstream.config.PrivateFiles}, how the node writes files only its user may read. No setting is read
 * from the environment outside this package (launching reads {@code PATH} to find ansible-playbook, as a shell would).
 */
package io.jobstream.config;
