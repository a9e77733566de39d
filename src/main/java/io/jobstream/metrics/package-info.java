/**
 * What the node tells its operators: meter names in one place ({@link io.jobstream.metrics.Metrics}), the
 * Prometheus registry every stage records into, and the health values components return
 * ({@link io.jobstream.metrics.CheckResult}). Sits at the bottom of the package graph with event and config; it
 * knows no stage.
 */
package io.jobstream.metrics;
