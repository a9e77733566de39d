/**
 * Meter names in one place ({@link io.jobstream.metrics.Metrics}) and the Prometheus registry every stage records
 * into. Sits at the bottom of the package graph with event and config; it knows no stage.
 */
package io.jobstream.metrics;
