/**
 * The model every stage shares: {@link io.jobstream.event.JobEvent}, the EOF marker (and the EOF line the node's own
 * emitters send), AWX's event types, and the decoder that turns untrusted JSON into validated events or per-line
 * rejections. Sits at the bottom of the package graph: it imports no other jobstream package and does no I/O.
 */
package io.jobstream.event;
