package io.jobstream.server;

import io.javalin.security.RouteRole;
import io.jobstream.api.AnalysisRoutes;
import io.jobstream.api.ApiRoutes;
import io.jobstream.api.AwxRoots;
import io.jobstream.api.NodeInfo;
import io.jobstream.api.ResourceOptions;
import io.jobstream.api.RunModels;
import io.jobstream.auth.Access;
import io.jobstream.auth.AdminBootstrap;
import io.jobstream.auth.AuthRoutes;
import io.jobstream.auth.Authenticator;
import io.jobstream.auth.BasicCache;
import io.jobstream.auth.CliTokenOrigin;
import io.jobstream.auth.JobAccess;
import io.jobstream.auth.LoginRoutes;
import io.jobstream.auth.NodeTokens;
import io.jobstream.auth.PartitionBudget;
import io.jobstream.auth.PasswordHasher;
import io.jobstream.auth.UserLimits;
import io.jobstream.auth.WebsocketAuth;
import io.jobstream.broadcast.Hub;
import io.jobstream.config.Config;
import io.jobstream.config.PrivateFiles;
import io.jobstream.demo.Demo;
import io.jobstream.diagnosis.ReadingsSampler;
import io.jobstream.event.CaptureLevel;
import io.jobstream.event.EventDecoder;
import io.jobstream.event.Redactor;
import io.jobstream.ingest.IngestEndpoint;
import io.jobstream.job.JobLauncher;
import io.jobstream.job.JobTokens;
import io.jobstream.job.LaunchRoutes;
import io.jobstream.metrics.HealthCheck;
import io.jobstream.metrics.Metrics;
import io.jobstream.metrics.RecentHops;
import io.jobstream.persist.Receiver;
import io.jobstream.postgres.Database;
import io.jobstream.postgres.PostgresAuthStore;
import io.jobstream.postgres.PostgresEventReader;
import io.jobstream.postgres.PostgresEventSearch;
import io.jobstream.postgres.PostgresEventSource;
import io.jobstream.postgres.PostgresEventStore;
import io.jobstream.postgres.PostgresJobCaptures;
import io.jobstream.postgres.PostgresJobReader;
import io.jobstream.postgres.PostgresJobRegistry;
import io.jobstream.postgres.PostgresRetention;
import io.jobstream.postgres.PostgresRunModelStore;
import io.jobstream.postgres.PostgresRunReader;
import io.jobstream.postgres.PostgresStdout;
import io.jobstream.postgres.PostgresStorage;
import io.jobstream.queue.EventQueue;
import io.jobstream.storage.RetentionSchedule;
import io.jobstream.storage.StorageRoutes;
import io.jobstream.time.MonotonicClock;
import io.jobstream.time.Sleeper;
import io.jobstream.ui.UiRoutes;
import io.jobstream.websocket.EventStreamEndpoint;
import io.jobstream.websocket.JobSight;
import io.jobstream.websocket.WebsocketEndpoint;
import io.jobstream.websocket.WsIdentity;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One jobstream node: builds every component from plain constructors, with the implementations {@link Backends}
 * chose (memory or Redis), and starts and stops them in order. {@link #start()} brings the stages up in dependency
 * order: database, queue and broadcast, receiver, then HTTP and websockets (ingest last in effect, since nothing is
 * queued before the receiver runs). {@link #close()} runs in reverse: stop accepting ingest, let the receiver commit
 * what is queued, close websockets and HTTP, then the database. Not thread-safe; one owner (the CLI or a test)
 * starts and closes it.
 */
public final class Server implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Server.class);
    private static final Duration DRAIN_DEADLINE = Duration.ofSeconds(30);
    static final String VERSION = "0.1.0";

    private final Config config;
    private final Clock clock;
    private final PrometheusMeterRegistry registry = Metrics.newRegistry();
    private final Hub hub = new Hub(registry);
    private final Backends backends;
    // set as start() brings them up, so that close() stops what started
    private DataDirLock dataDirLock;
    private Database database;
    private RecentHops recentHops;
    private ReadingsSampler readings;
    private WebsocketEndpoint websocket;
    private EventStreamEndpoint eventStreams;
    private Receiver receiver;
    private RunModels runModels;
    private IngestEndpoint ingest;
    private JobLauncher launcher;
    private Tls tls;
    private HttpServer http;
    private Demo demo;
    private RetentionSchedule retention;
    private boolean closed;

    public Server(Config config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.backends = Backends.choose(config, hub, registry, clock);
    }

    public Server start() {
        // first: nothing below may touch a data dir another node uses (and a killed node's leftovers are ours to stop)
        dataDirLock = DataDirLock.acquire(config.database().dataDir());
        HttpServer.checkPortFree(config.http().host(), config.http().port());
        // TLS files that are not a certificate and key fail the start here, before anything else starts
        if (config.http().tls().enabled()) {
            tls = Tls.load(
                    config.http().tls(),
                    config.database().dataDir(),
                    config.http().host());
            if (config.http().tls().selfSigned()) log.info("self-signed TLS certificate: {}", tls.certificateFile());
        }
        // before anything is written there: job output, cli-token and database passwords are for this user only
        int opened = PrivateFiles.tighten(config.database().dataDir());
        if (opened > 0)
            log.warn("data dir: {} files or directories were open to other users; now only this user's", opened);
        database = Database.of(config.database());
        database.start();
        EventQueue queue = backends.start().queue();
        Redactor redactor = new Redactor(config.ingest().redactPatterns());
        Metrics.bindRedactor(registry, redactor::redactedEvents, redactor::noLogEvents, redactor::overBudgetStrings);
        EventDecoder decoder = new EventDecoder(
                config.ingest().maxEventBytes(), config.ingest().maxJsonDepth(), clock, redactor);
        // Who is asking and what they may see (SPEC §8): users, sessions and tokens live in PostgreSQL, so every node
        // of a cluster accepts the same ones; the first start creates the admin.
        PostgresAuthStore authStore = new PostgresAuthStore(database.dataSource());
        PasswordHasher hasher = new PasswordHasher();
        BasicCache basicCache = new BasicCache(config.auth().basicCache(), clock);
        Authenticator authenticator = new Authenticator(
                authStore, hasher, basicCache, clock, registry, config.auth().limits());
        JobAccess access = new JobAccess(
                authStore,
                authenticator,
                new PartitionBudget(config.auth().limits().maxNewPartitions(), registry, System::nanoTime),
                config.auth().basicCache());
        new AdminBootstrap(authStore, hasher, basicCache)
                .ensureAdmin(config.auth().adminPassword(), log::warn)
                .ifPresent(admin -> log.info("first start: created user 'admin' (superuser)"));
        NodeTokens nodeTokens = new NodeTokens(authStore, clock);
        // the doctor must answer while the database stalls, when its credential cannot be looked up
        nodeTokens.ensureCliToken(config.database().dataDir()).ifPresent(authenticator::trustNodeToken);
        // withdrawn credentials or access close this node's websockets at once (other nodes' within 30 s)
        Runnable accessChanged = () -> {
            access.forgetWrites();
            websocket.revalidate();
            eventStreams.revalidate();
        };
        LoginRoutes loginRoutes = new LoginRoutes(
                authenticator,
                authStore,
                new LoginRoutes.Sessions(
                        config.auth().sessionTimeout(), config.auth().limits().maxSessionsPerUser()),
                clock,
                accessChanged,
                registry);
        AuthRoutes authRoutes = new AuthRoutes(
                authStore,
                hasher,
                basicCache,
                access,
                clock,
                accessChanged,
                new UserLimits(
                        config.auth().limits().maxTokensPerUser(),
                        config.auth().limits().maxNewJobsPerUser(),
                        registry));
        websocket = websocket(queue, authenticator, access);
        WebsocketAuth streamAuth = new WebsocketAuth(authenticator);
        eventStreams = websocket.eventStreams(
                new PostgresJobReader(database.dataSource()),
                access,
                streamAuth::revocation,
                config.http().idleTimeout(),
                registry);
        // run models: built in the background as jobs finish on this node (the receiver only hands over job ids)
        runModels = new RunModels(
                        new PostgresRunReader(database.dataSource()),
                        new PostgresRunModelStore(database.dataSource()),
                        new PostgresJobReader(database.dataSource()),
                        registry)
                .start();
        receiver = new Receiver(
                queue,
                new PostgresEventStore(database.dataSource(), clock),
                backends.broadcaster(),
                runModels::committed,
                config.persist(),
                registry,
                new MonotonicClock(),
                Sleeper.REAL);
        String node = config.cluster().nodeName();
        StatsEndpoint stats = new StatsEndpoint(
                node,
                backends.mode(),
                () -> http == null ? "" : uri().toString(),
                clock,
                registry,
                queue,
                receiver::isRunning,
                backends.clusterStats(),
                recentHops = new RecentHops(registry, clock).start(),
                websocket::subscribers);
        DiagnosisEndpoint diagnosis = new DiagnosisEndpoint(node, readings = readingsSampler(authStore), access);
        // the cluster's doctor (--redis-url) reads each node's diagnosis from its heartbeat, over the default window
        backends.startHeartbeat(() -> {
            Map<String, Object> beat = stats.snapshot(false);
            beat.put(
                    "diagnosis",
                    diagnosis.diagnose(DiagnosisEndpoint.DEFAULT_WINDOW).toJson());
            return beat;
        });
        receiver.start();
        backends.startIntake(decoder, access);
        ingest = new IngestEndpoint(
                decoder,
                queue,
                config.ingest(),
                registry,
                access,
                new PostgresJobCaptures(database.dataSource()),
                receiver::storeTrouble);
        ApiRoutes api = new ApiRoutes(
                new PostgresJobReader(database.dataSource()),
                new PostgresEventReader(database.dataSource()),
                new PostgresStdout(
                        database.dataSource(), config.http().downloads().pageBytes()),
                new NodeInfo(VERSION, nodeName(), clock.instant()),
                access,
                config.http().downloads(),
                registry);
        PostgresJobRegistry jobRows =
                new PostgresJobRegistry(database.dataSource(), config.cluster().nodeName());
        // status changes of launched jobs go to every node's subscribers (through Redis in cluster mode)
        launcher = new JobLauncher(
                        config.jobs(),
                        config.database().dataDir(),
                        this::uri,
                        () -> tls == null ? null : tls.certificateFile(),
                        jobRows,
                        backends.broadcaster()::publishStatus,
                        clock,
                        launchTokens(nodeTokens),
                        ingest::submitOwn,
                        redactor)
                .bindTo(registry)
                .start()
                // a node killed while it ran jobs left their playbooks running and their rows unfinished; in a
                // cluster a cancel may reach another node than the job's
                .join(new JobLauncher.Peers(
                        config.cluster().nodeName(), config.database().embedded(), backends.nodeAlive()));
        LaunchRoutes launchRoutes = new LaunchRoutes(
                launcher, api::jobJson, access, authStore, config.auth().adminsOnlyLaunch());
        // retention on a schedule (one node at a time: the cleaner's lock) and the storage report behind its gauges
        retention = new RetentionSchedule(
                config.retention(),
                new PostgresRetention(database.dataSource(), config.retention().batchSize()),
                new PostgresStorage(database.dataSource(), clock),
                config.database().dataDir().resolve("jobs"), // where the launcher keeps each job's files
                registry,
                clock);
        websocket.start(); // pings and re-checks, before connections come
        eventStreams.start(); // heartbeats and re-checks
        http = new HttpServer(
                        config,
                        tls,
                        authenticator,
                        registry,
                        websocket::configure,
                        List.of(
                                loginRoutes::register,
                                authRoutes::register,
                                ingest::register,
                                launchRoutes::register,
                                websocket::register,
                                eventStreams::register,
                                api::register,
                                new AwxRoots()::register,
                                new ResourceOptions(config.auth().adminsOnlyLaunch())::register,
                                new AnalysisRoutes(
                                        new PostgresJobReader(database.dataSource()),
                                        new PostgresRunReader(database.dataSource()),
                                        runModels,
                                        new PostgresEventSearch(database.dataSource()),
                                        access,
                                        clock)::register,
                                new UiRoutes()::register,
                                health(queue)::register,
                                stats::register,
                                diagnosis::register,
                                new StorageRoutes(retention)::register,
                                r -> r.get(
                                        "/metrics",
                                        ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                                                .result(registry.scrape()),
                                        Access.ANONYMOUS)))
                .start();
        retention.start();
        log.info("jobstream is serving on {} ({} mode, node {})", uri(), backends.mode(), node);
        // the tools send cli-token only to the node that wrote it: this origin, while this process runs
        CliTokenOrigin.write(config.database().dataDir(), uri());
        if (config.demo()) {
            demo = Demo.start(
                    launcher,
                    jobRows,
                    nodeTokens,
                    uri().resolve(IngestEndpoint.PATH.substring(1)),
                    Optional.ofNullable(tls).map(Tls::clientContext),
                    clock);
        }
        return this;
    }

    /** A launched job's plugin gets an ingest token for that job only, revoked when the run ends. */
    private static JobTokens launchTokens(NodeTokens nodeTokens) {
        return JobTokens.of(
                (id, capture) -> nodeTokens
                        .ingest(id, "launched job " + id, capture == CaptureLevel.FULL ? null : capture)
                        .secret(),
                nodeTokens::revokeJob);
    }

    private WebsocketEndpoint websocket(EventQueue queue, Authenticator authenticator, JobAccess access) {
        WebsocketAuth wsAuth = new WebsocketAuth(authenticator);
        return new WebsocketEndpoint(
                config.ws(),
                hub,
                new PostgresEventSource(database.dataSource()),
                queue.watermark(),
                clock,
                registry,
                ctx -> wsAuth.authenticate(ctx).map(login -> new WsIdentity(login.userId(), login.revoked())),
                new JobSight() { // subscriptions count their denials; the jobs group's filtering does not
                    @Override
                    public Set<Long> visible(long userId, Collection<Long> jobIds) {
                        return access.mayView(userId, jobIds);
                    }

                    @Override
                    public Set<Long> filter(long userId, Collection<Long> jobIds) {
                        return access.visibleOf(userId, jobIds);
                    }
                });
    }

    /** What the doctor reasons from: the meters, the database probe and the most backed-up websockets. */
    private ReadingsSampler readingsSampler(PostgresAuthStore authStore) {
        return new ReadingsSampler(
                        registry,
                        clock,
                        new ReadingsSampler.Sources(
                                database::check,
                                () -> websocket.subscribers(ReadingsSampler.SUBSCRIBERS).stream()
                                        .map(s -> new ReadingsSampler.Connection(
                                                s.user(),
                                                s.remote(),
                                                s.groups().stream()
                                                        .filter(g -> g.startsWith("job_events-"))
                                                        .map(g -> Long.parseLong(g.substring("job_events-".length())))
                                                        .toList(),
                                                s.queued(),
                                                !s.catchingUp().isEmpty()))
                                        .toList(),
                                id -> authStore.userById(id).map(u -> u.username()),
                                backends.mode().equals("cluster")))
                .start();
    }

    /** Each component's own check, in the order {@code /health} has always listed them. */
    private HealthEndpoint health(EventQueue queue) {
        Map<String, HealthCheck> checks = new LinkedHashMap<>();
        checks.put("database", database::check);
        checks.put("receiver", receiver::check);
        checks.putAll(backends.checks());
        return new HealthEndpoint(checks, queue::depth);
    }

    private static String nodeName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    /** The launcher of ansible-playbook jobs (tests read the terminal output it keeps per job). */
    public JobLauncher launcher() {
        return launcher;
    }

    public int port() {
        return http.port();
    }

    /** A route as registered: its method (WEBSOCKET for a websocket path), path pattern and declared roles. */
    public record Route(String method, String path, Set<RouteRole> roles) {}

    /** Every route the running node serves, read from the router itself (the access matrix test walks them all). */
    public List<Route> routes() {
        return http.routes();
    }

    /** The node's TLS identity, or null when it serves plain http. */
    public Tls tls() {
        return tls;
    }

    /** The base URL, e.g. {@code http://127.0.0.1:8052/}. */
    public URI uri() {
        return http.uri();
    }

    /** Idempotent; also after a start that failed halfway, closing what did start. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (demo != null) demo.close();
        // before ingest closes, so canceled playbooks can still deliver their last events and EOF
        if (launcher != null) launcher.close();
        if (ingest != null) ingest.close();
        backends.stopIntake();
        if (receiver != null) receiver.close(DRAIN_DEADLINE);
        backends.closeQueue();
        if (ingest != null) ingest.stopReplies();
        if (eventStreams != null) eventStreams.close(); // each stream says close, while HTTP can still write it
        if (websocket != null) websocket.close();
        if (http != null) {
            http.stop();
            CliTokenOrigin.remove(config.database().dataDir());
        }
        backends.close();
        if (recentHops != null) recentHops.close();
        if (readings != null) readings.close();
        if (retention != null) retention.close();
        if (runModels != null) runModels.close();
        if (database != null) database.close();
        registry.close();
        if (dataDirLock != null) dataDirLock.close(); // last: the embedded PostgreSQL has stopped
    }
}
