package io.jobstream.server;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.HandlerType;
import io.javalin.router.ParsedEndpoint;
import io.javalin.security.Roles;
import io.javalin.security.RouteRole;
import io.javalin.websocket.WsHandlerEntry;
import io.javalin.websocket.WsHandlerType;
import io.jobstream.api.ApiRoutes;
import io.jobstream.api.NodeInfo;
import io.jobstream.auth.Access;
import io.jobstream.auth.AdminBootstrap;
import io.jobstream.auth.AuthFilter;
import io.jobstream.auth.CliTokenOrigin;
import io.jobstream.auth.AuthRoutes;
import io.jobstream.auth.Authenticator;
import io.jobstream.auth.BasicCache;
import io.jobstream.auth.JobAccess;
import io.jobstream.auth.LoginRoutes;
import io.jobstream.auth.NodeTokens;
import io.jobstream.auth.PartitionBudget;
import io.jobstream.auth.PasswordHasher;
import io.jobstream.auth.UserLimits;
import io.jobstream.auth.WebsocketAuth;
import io.jobstream.broadcast.Broadcaster;
import io.jobstream.broadcast.Hub;
import io.jobstream.broadcast.MemoryBroadcaster;
import io.jobstream.config.Config;
import io.jobstream.config.PrivateFiles;
import io.jobstream.event.EventDecoder;
import io.jobstream.ingest.IngestEndpoint;
import io.jobstream.job.DemoJobs;
import io.jobstream.job.JobLauncher;
import io.jobstream.job.JobTokens;
import io.jobstream.job.LaunchRoutes;
import io.jobstream.job.PlaybookDemo;
import io.jobstream.job.StatusListener;
import io.jobstream.metrics.Metrics;
import io.jobstream.metrics.RecentHops;
import io.jobstream.persist.Receiver;
import io.jobstream.postgres.Database;
import io.jobstream.postgres.PostgresAuthStore;
import io.jobstream.postgres.EmbeddedDatabase;
import io.jobstream.postgres.PostgresEventReader;
import io.jobstream.postgres.PostgresEventSource;
import io.jobstream.postgres.PostgresEventStore;
import io.jobstream.postgres.PostgresJobReader;
import io.jobstream.postgres.PostgresJobRegistry;
import io.jobstream.postgres.PostgresStdout;
import io.jobstream.queue.EventQueue;
import io.jobstream.queue.MemoryEventQueue;
import io.jobstream.redis.CallbackTasks;
import io.jobstream.redis.RedisBroadcaster;
import io.jobstream.redis.RedisEventQueue;
import io.jobstream.redis.RedisConnection;
import io.jobstream.redis.RedisDurability;
import io.jobstream.redis.RedisNodes;
import io.jobstream.ui.UiRoutes;
import io.jobstream.websocket.JobSight;
import io.jobstream.websocket.WebsocketEndpoint;
import io.jobstream.websocket.WsIdentity;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One jobstream node. {@link #start()} brings the stages up in dependency order: database, broadcast, receiver,
 * then HTTP and websockets (ingest last in effect, since nothing is queued before the receiver runs).
 * {@link #close()} runs in reverse: stop accepting ingest, let the receiver commit what is queued, close websockets
 * and HTTP, then the database. Not thread-safe; one owner (the CLI or a test) starts and closes it.
 */
public final class Server implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Server.class);
    private static final Duration DRAIN_DEADLINE = Duration.ofSeconds(30);
    static final String VERSION = "0.1.0";

    private final Config config;
    private final Clock clock;
    private final PrometheusMeterRegistry registry = Metrics.newRegistry();
    private EmbeddedDatabase embedded;
    private Database database;
    private Broadcaster broadcaster;
    private Receiver receiver;
    private IngestEndpoint ingest;
    private WebsocketEndpoint websocket;
    private ApiRoutes api;
    private HealthEndpoint health;
    private StatsEndpoint stats;
    private RecentHops recentHops;
    private RedisConnection redis;
    private RedisNodes nodes;
    private RedisEventQueue redisQueue;
    private CallbackTasks callbackTasks;
    private AutoCloseable demo;
    private JobLauncher launcher;
    private LaunchRoutes launchRoutes;
    private Tls tls;
    private Javalin http;
    private AuthFilter authFilter;
    private LoginRoutes loginRoutes;
    private AuthRoutes authRoutes;
    private NodeTokens nodeTokens;
    private NodeTokens.Issued demoToken;

    public Server(Config config, Clock clock) {
        this.config = config;
        this.clock = clock;
    }

    public Server start() {
        // before anything is written there: job output, cli-token and database passwords are for this user only
        int opened = PrivateFiles.tighten(config.database().dataDir());
        if (opened > 0) log.warn("data dir: {} files or directories were open to other users; now only this user's", opened);
        database = Database.fromUrl(startDatabase(), config.database().poolSize());
        database.start();
        var cluster = config.cluster();
        EventDecoder decoder = new EventDecoder(config.ingest().maxEventBytes(), config.ingest().maxJsonDepth(), clock);
        Hub hub = new Hub(registry);
        MemoryBroadcaster local = new MemoryBroadcaster(hub, registry, clock);
        EventQueue queue;
        Supplier<Map<String, Object>> clusterStats = null;
        if (cluster.enabled()) {
            // Cluster mode: the durable stream is the queue, pub/sub the broadcast; the heartbeat goes first so
            // that this node counts as alive before it holds any work.
            redis = RedisConnection.open(cluster.redisUrl(), 64);
            nodes = new RedisNodes(redis, cluster.nodeName(), cluster.nodeTimeout(), () -> stats.snapshot(false));
            RedisDurability durability = new RedisDurability(redis, cluster.waitAof(), registry);
            durability.check(); // says what a 2xx is worth; refuses redis.wait-aof where Redis cannot do it
            redisQueue = new RedisEventQueue(redis, cluster.nodeName(), config.queue().capacity(), nodes::alive,
                    durability.waitsForFsync(), registry).start();
            queue = redisQueue;
            RedisBroadcaster relay = new RedisBroadcaster(local, redis, cluster.nodeName(), registry);
            relay.start();
            broadcaster = relay;
            clusterStats = () -> {
                Map<String, Object> m = new java.util.LinkedHashMap<>(redisQueue.stats());
                m.put("callback_tasks", callbackTasks == null ? 0 : callbackTasks.length());
                m.put("acknowledgement", durability.describe());
                return m;
            };
        } else {
            queue = new MemoryEventQueue(config.queue().capacity(), config.queue().maxBytes());
            broadcaster = local;
        }
        registry.gauge(Metrics.QUEUE_DEPTH, queue, EventQueue::depth);
        registry.gauge(Metrics.QUEUE_CAPACITY, queue, EventQueue::capacity);
        // Who is asking and what they may see (SPEC §8): users, sessions and tokens live in PostgreSQL, so every node
        // of a cluster accepts the same ones; the first start creates the admin.
        PostgresAuthStore authStore = new PostgresAuthStore(database.dataSource());
        PasswordHasher hasher = new PasswordHasher();
        BasicCache basicCache = new BasicCache(config.auth().basicCache(), clock);
        Authenticator authenticator = new Authenticator(authStore, hasher, basicCache, clock, registry,
                config.auth().limits());
        JobAccess access = new JobAccess(authStore, authenticator,
                new PartitionBudget(config.auth().limits().maxNewPartitions(), registry, System::nanoTime),
                config.auth().basicCache());
        new AdminBootstrap(authStore, hasher, basicCache).ensureAdmin(config.auth().adminPassword(), log::warn)
                .ifPresent(admin -> log.info("first start: created user 'admin' (superuser)"));
        nodeTokens = new NodeTokens(authStore, clock);
        nodeTokens.ensureCliToken(config.database().dataDir());
        authFilter = new AuthFilter(authenticator, this::getRoles, config.http().maxRequestsPerUser(), registry);
        // withdrawn credentials or access close this node's websockets at once (other nodes' within 30 s)
        Runnable accessChanged = () -> {
            access.forgetWrites();
            websocket.revalidate();
        };
        loginRoutes = new LoginRoutes(authenticator, authStore, config.auth().sessionTimeout(), clock, accessChanged);
        authRoutes = new AuthRoutes(authStore, hasher, basicCache, access, clock, accessChanged, new UserLimits(
                config.auth().limits().maxTokensPerUser(), config.auth().limits().maxNewJobsPerUser(), registry));
        WebsocketAuth wsAuth = new WebsocketAuth(authenticator);
        websocket = new WebsocketEndpoint(config.ws(), hub, new PostgresEventSource(database.dataSource()),
                queue.watermark(), clock, registry,
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
        receiver = new Receiver(queue, new PostgresEventStore(database.dataSource(), clock), broadcaster,
                config.persist(), registry);
        stats = new StatsEndpoint(cluster.nodeName(), cluster.enabled() ? "cluster" : "embedded",
                () -> http == null ? "" : uri().toString(), clock, registry, queue, receiver::isRunning, clusterStats,
                recentHops = new RecentHops(registry, clock).start(), websocket::subscribers);
        if (nodes != null) nodes.start();
        receiver.start();
        if (cluster.enabled()) {
            // AWX-style emitters are trusted writers, held to the same rule as HTTP ingest (JobAccess)
            callbackTasks = new CallbackTasks(redis, cluster.nodeName(), decoder, queue, nodes::alive,
                    cluster.nodeTimeout(), registry, ids -> refusals(access.emitterWrites(ids)));
            callbackTasks.start();
        }
        ingest = new IngestEndpoint(decoder, queue, config.ingest(), registry, access);
        api = new ApiRoutes(new PostgresJobReader(database.dataSource()), new PostgresEventReader(database.dataSource()),
                new PostgresStdout(database.dataSource(), config.http().downloads().pageBytes()),
                new NodeInfo(VERSION, nodeName(), clock.instant()), access, config.http().downloads(), registry);
        PostgresJobRegistry jobRows = new PostgresJobRegistry(database.dataSource());
        // status changes of launched jobs go to every node's subscribers (through Redis in cluster mode)
        StatusListener statuses = broadcaster instanceof RedisBroadcaster relay ? relay::publishStatus : local::publishStatus;
        launcher = new JobLauncher(config.jobs(), config.database().dataDir(), this::uri,
                () -> tls == null ? null : tls.certificateFile(), jobRows, statuses, clock, jobTokens(), ingest::submitOwn).bindTo(registry).start();
        launchRoutes = new LaunchRoutes(launcher, api::jobJson, access, authStore, config.auth().adminsOnlyLaunch());
        health = redisQueue == null ? new HealthEndpoint(database.dataSource(), queue, receiver::isRunning)
                : new HealthEndpoint(database.dataSource(), queue, receiver::isRunning, redisQueue::redisDown);
        if (config.http().tls().enabled()) {
            tls = Tls.load(config.http().tls(), config.database().dataDir(), config.http().host());
            if (config.http().tls().selfSigned()) log.info("self-signed TLS certificate: {}", tls.certificateFile());
        }
        http = Javalin.create(this::configure).start(config.http().host(), config.http().port());
        log.info("jobstream is serving on {} ({} mode, node {})", uri(), cluster.enabled() ? "cluster" : "embedded",
                cluster.nodeName());
        // the tools send cli-token only to the node that wrote it: this origin, while this process runs
        CliTokenOrigin.write(config.database().dataDir(), uri());
        if (config.demo()) {
            if (launcher.ansibleAvailable() && PlaybookDemo.hasPlaybooks(launcher.playbookDir())) {
                log.info("demo: launching the playbooks in {} in a loop", launcher.playbookDir());
                demo = new PlaybookDemo(launcher).start();
            } else {
                log.info("demo: ansible-playbook or playbooks not found, replaying a recorded run");
                demoToken = nodeTokens.ingest(null, "demo replay");
                DemoJobs replay = new DemoJobs(uri().resolve(IngestEndpoint.PATH.substring(1)),
                        Optional.ofNullable(tls).map(Tls::clientContext), "Bearer " + demoToken.secret(), jobRows, clock);
                replay.start();
                demo = replay;
            }
        }
        return this;
    }

    /** A launched job's plugin gets an ingest token for that job only, revoked when the run ends. */
    private JobTokens jobTokens() {
        return new JobTokens() {
            @Override
            public String issue(long jobId) {
                return nodeTokens.ingest(jobId, "launched job " + jobId).secret();
            }

            @Override
            public void revoke(long jobId) {
                nodeTokens.revokeJob(jobId);
            }
        };
    }

    private String startDatabase() {
        if (!config.database().embedded()) return config.database().url();
        embedded = new EmbeddedDatabase(config.database().dataDir(), config.database().binariesDir());
        return embedded.start();
    }

    private void configure(JavalinConfig cfg) {
        cfg.startup.showJavalinBanner = false;
        cfg.http.maxRequestSize = config.ingest().maxRequestBytes();
        // Slow clients: a connection silent for the idle timeout is closed, and a body trickling in slower than the
        // minimum rate is cut off with 408, so a slowloris cannot hold Jetty's threads or connections for long.
        // (These cover HTTP; websockets have their own ping and outbox rules.)
        cfg.jetty.modifyHttpConfiguration(h -> {
            h.setIdleTimeout(config.http().idleTimeout().toMillis());
            h.setMinRequestDataRate(config.http().minRequestRate());
        });
        websocket.configure(cfg.jetty); // websockets' own: message size, idle timeout
        // One connector serves HTTP and websockets, over TLS when configured (Javalin adds its own plain connector
        // only when none is configured); its idle timeout closes connections that stall.
        cfg.jetty.addConnector((server, httpConfig) -> {
            ServerConnector connector = tls != null ? tls.connector(server, httpConfig)
                    : new ServerConnector(server, new HttpConnectionFactory(httpConfig));
            connector.setHost(config.http().host());
            connector.setPort(config.http().port());
            connector.setIdleTimeout(config.http().idleTimeout().toMillis());
            return connector;
        });
        // Spellings that reach a route (docs/OPERATIONS.md "Routes and their rules"): a trailing slash is optional and
        // repeated slashes count as one, as proxies and hand-typed URLs produce both; case matters, as in AWX. Each
        // spelling maps to the route itself, so the rule declared with it (auth.Access) is the one enforced.
        cfg.router.ignoreTrailingSlashes = true;
        cfg.router.treatMultipleSlashesAsSingleSlash = true;
        cfg.router.caseInsensitiveRoutes = false;
        // every answer, routes' and refusals' alike: a browser never second-guesses a type we declare (a job's
        // text/plain output sniffed as HTML would run its scripts on our origin)
        cfg.routes.before(ctx -> ctx.header("X-Content-Type-Options", "nosniff"));
        cfg.routes.beforeMatched(authFilter::handle); // every route below sees the principal its rule requires
        cfg.routes.error(404, authFilter::unmatched); // no route: authenticated first, then 404
        loginRoutes.register(cfg.routes);
        authRoutes.register(cfg.routes);
        ingest.register(cfg.routes);
        launchRoutes.register(cfg.routes);
        websocket.register(cfg.routes);
        api.register(cfg.routes);
        new UiRoutes().register(cfg.routes);
        health.register(cfg.routes);
        stats.register(cfg.routes);
        cfg.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                .result(registry.scrape()), Access.ANONYMOUS);
    }

    /**
     * A write verdict as the Redis consumer takes it: refused job id → reason. A check the database could not answer
     * throws, so that the consumer keeps the messages and tries again instead of dead-lettering them.
     */
    private static Map<Long, String> refusals(JobAccess.Writes writes) {
        Map<Long, String> out = new HashMap<>();
        writes.refused().forEach((id, r) -> {
            if (r.tag().equals(JobAccess.UNAVAILABLE)) throw new IllegalStateException(r.reason());
            out.put(id, r.reason());
        });
        return out;
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

    /** The roles of the GET route {@code path} matches, empty when none (how a HEAD request is judged). */
    private Set<RouteRole> getRoles(String path) {
        ParsedEndpoint e = http.unsafe.internalRouter.findFirstHttpHandlerEntry(HandlerType.GET, path);
        Roles roles = e == null ? null : e.endpoint.metadata(Roles.class);
        return roles == null ? Set.of() : roles.getRoles();
    }

    /** A route as registered: its method (WEBSOCKET for a websocket path), path pattern and declared roles. */
    public record Route(String method, String path, Set<RouteRole> roles) {}

    /** Every route the running node serves, read from the router itself (the access matrix test walks them all). */
    public List<Route> routes() {
        List<Route> all = new ArrayList<>();
        for (ParsedEndpoint e : http.unsafe.internalRouter.allHttpHandlers()) {
            if (!e.endpoint.method.isHttpMethod()) continue; // before/after handlers: not routes
            Roles roles = e.endpoint.metadata(Roles.class);
            all.add(new Route(e.endpoint.method.name(), e.endpoint.path, roles == null ? Set.of() : roles.getRoles()));
        }
        for (WsHandlerEntry e : http.unsafe.internalRouter.allWsHandlers()) {
            if (e.getType() == WsHandlerType.WEBSOCKET) all.add(new Route("WEBSOCKET", e.getPath(), e.getRoles()));
        }
        return all;
    }

    /** The node's TLS identity, or null when it serves plain http. */
    public Tls tls() {
        return tls;
    }

    /** The base URL, e.g. {@code http://127.0.0.1:8052/}. */
    public URI uri() {
        return URI.create((tls != null ? "https://" : "http://") + config.http().host() + ":" + port() + "/");
    }

    @Override
    public void close() {
        if (demo != null) {
            try {
                demo.close();
            } catch (Exception e) {
                log.warn("closing the demo failed", e);
            }
        }
        if (demoToken != null) {
            try {
                nodeTokens.revoke(demoToken);
            } catch (RuntimeException e) {
                log.warn("cannot revoke the demo's token (it expires on its own): {}", e.getMessage());
            }
            demoToken = null;
        }
        // before ingest closes, so canceled playbooks can still deliver their last events and EOF
        if (launcher != null) launcher.close();
        if (ingest != null) ingest.close();
        if (callbackTasks != null) callbackTasks.close();
        if (receiver != null) receiver.close(DRAIN_DEADLINE);
        if (redisQueue != null) redisQueue.close();
        if (ingest != null) ingest.stopReplies();
        if (websocket != null) websocket.close();
        if (http != null) {
            http.stop();
            CliTokenOrigin.remove(config.database().dataDir());
        }
        if (broadcaster != null) broadcaster.close();
        if (nodes != null) nodes.close();
        if (recentHops != null) recentHops.close();
        if (redis != null) redis.close();
        if (database != null) database.close();
        if (embedded != null) embedded.close();
        registry.close();
        demo = null;
        launcher = null;
        ingest = null;
        websocket = null;
        receiver = null;
        http = null;
        broadcaster = null;
        database = null;
        embedded = null;
        callbackTasks = null;
        redisQueue = null;
        nodes = null;
        recentHops = null;
        redis = null;
    }
}
