/**
 * {@code serve --demo}: keeps jobs streaming so that a new node has something to show. {@link
 * io.jobstream.demo.PlaybookDemo} launches the sample playbooks through the job launcher when Ansible is installed;
 * otherwise {@link io.jobstream.demo.DemoJobs} replays a recorded real run as new jobs over the real HTTP ingest
 * endpoint, as an emitter would. Only the server starts it; no stage depends on this package, and it never writes
 * events anywhere but through ingest.
 */
package io.jobstream.demo;
