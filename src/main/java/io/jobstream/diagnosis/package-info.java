/**
 * The node explains its own lag (SPEC §13): {@link io.jobstream.diagnosis.ReadingsSampler} gathers windowed readings
 * of the node's meters and probes, {@link io.jobstream.diagnosis.Rules} turns a {@link io.jobstream.diagnosis.Readings}
 * into a {@link io.jobstream.diagnosis.Diagnosis}. The rules are pure functions of the readings; they never read a
 * meter, a clock or the network themselves. This package must never change what it observes.
 */
package io.jobstream.diagnosis;
