/**
 * Storage operators can budget (SPEC §10): retention on a schedule, cleanup on demand, the storage report and its
 * gauges. Owns the {@code jobstream-retention} thread and the admin routes under {@code /api/v2/storage/}. Talks to
 * the database only through {@link io.jobstream.storage.Cleaner} and {@link io.jobstream.storage.StorageReader}
 * (implemented in {@code postgres}); never touches a job that has not finished.
 */
package io.jobstream.storage;
