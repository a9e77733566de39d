package io.jobstream.demo;

import io.jobstream.auth.NodeTokens;
import io.jobstream.job.JobLauncher;
import io.jobstream.job.JobRegistry;
import java.net.URI;
import java.time.Clock;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code serve --demo}: the sample playbooks through the launcher when Ansible and playbooks are there, else recorded
 * runs replayed over HTTP ingest with an ingest token of their own, revoked when the demo closes. Started by the
 * server once HTTP is up, on its owner's thread; {@link #close()} stops the demo's thread, before ingest stops.
 */
public final class Demo implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Demo.class);

    private final AutoCloseable running;
    private final NodeTokens tokens;
    private final NodeTokens.Issued tokenOrNull;

    private Demo(AutoCloseable running, NodeTokens tokens, NodeTokens.Issued tokenOrNull) {
        this.running = running;
        this.tokens = tokens;
        this.tokenOrNull = tokenOrNull;
    }

    /**
     * @param ingestUrl the full URL of {@code POST /api/v2/job_events/ingest/} on this node
     * @param tls       for an https node: a context that trusts the node's certificate
     */
    public static Demo start(
            JobLauncher launcher,
            JobRegistry jobs,
            NodeTokens tokens,
            URI ingestUrl,
            Optional<SSLContext> tls,
            Clock clock) {
        if (launcher.ansibleAvailable() && PlaybookDemo.hasPlaybooks(launcher.playbookDir())) {
            LOG.info("demo: launching the playbooks in {} in a loop", launcher.playbookDir());
            return new Demo(new PlaybookDemo(launcher).start(), tokens, null);
        }
        LOG.info("demo: ansible-playbook or playbooks not found, replaying a recorded run");
        NodeTokens.Issued token = tokens.ingest(null, "demo replay");
        DemoJobs replay = new DemoJobs(ingestUrl, tls, "Bearer " + token.secret(), jobs, clock);
        replay.start();
        return new Demo(replay, tokens, token);
    }

    @Override
    public void close() {
        try {
            running.close();
        } catch (Exception e) {
            LOG.warn("closing the demo failed", e);
        }
        if (tokenOrNull == null) return;
        try {
            tokens.revoke(tokenOrNull);
        } catch (RuntimeException e) {
            LOG.warn("cannot revoke the demo's token (it expires on its own): {}", e.getMessage());
        }
    }
}
