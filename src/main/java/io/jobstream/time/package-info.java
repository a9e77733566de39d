/**
 * Time as a collaborator: {@link io.jobstream.time.Sleeper} beside {@link java.time.Clock}, injected into every loop
 * that waits so that its tests use fake time. At the bottom with {@code event}, {@code config} and {@code metrics}:
 * depends on no stage, and holds no state.
 */
package io.jobstream.time;
