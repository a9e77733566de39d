/**
 * Stage 5, the REST read side in AWX's shapes (reference §7): jobs, job events, children_summary and stdout; and
 * what explains a run (SPEC §11: host summaries, timeline, compare, cross-job search), read through {@code RunReader}
 * and {@code EventSearch}.
 * Owns query-parameter parsing, paging, truncation and the JSON/stdout writers; reads through the
 * {@link io.jobstream.api.JobReader}, {@link io.jobstream.api.EventReader} and {@link io.jobstream.api.StdoutSource}
 * interfaces it defines (implemented in {@code postgres}). Never writes to the pipeline and imports no JDBC driver.
 */
package io.jobstream.api;
