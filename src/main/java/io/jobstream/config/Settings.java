package io.jobstream.config;

import java.util.List;

/** Every setting in one place: {@code ./jobstream config defaults} prints this table. */
public final class Settings {
    public static final Setting HOST =
            new Setting("host", "127.0.0.1", "Address to listen on for HTTP and websockets.");
    public static final Setting PORT = new Setting("port", "8052", "Port for HTTP and websockets (0 = any free port).");
    public static final Setting DATA_DIR = new Setting(
            "data-dir",
            "./data",
            "Where the node keeps its files: embedded PostgreSQL data, job output, cli-token (created on first start;"
                    + " private to the node's user: 0700, files 0600, looser modes are fixed on start). One node per"
                    + " data dir: a second one is refused.");
    public static final Setting DATABASE_URL = new Setting(
            "database-url",
            "",
            "External PostgreSQL (postgresql://user:pass@host:port/db); empty = embedded PostgreSQL under data-dir.");
    public static final Setting DATABASE_BINARIES_DIR = new Setting(
            "database.binaries-dir",
            "",
            "Where the embedded PostgreSQL's binaries are unpacked (made private, 0700); empty = <data-dir>/pg-bin."
                    + " Never a directory other users can write to: the node runs what it finds there.");
    public static final Setting DATABASE_POOL_SIZE = new Setting(
            "database.pool-size", "8", "JDBC connections: one for the receiver, the rest for the REST read side.");
    public static final Setting MAX_EVENT_SIZE = new Setting(
            "ingest.max-event-size",
            "2MiB",
            "Largest single event accepted; a larger one is rejected with its line number.");
    public static final Setting MAX_REQUEST_SIZE =
            new Setting("ingest.max-request-size", "64MiB", "Largest ingest request body; a larger one gets 413.");
    public static final Setting MAX_RATE = new Setting(
            "ingest.max-rate",
            "0",
            "Events per second each emitter may send (token bucket per emitter: its ingest token, else its address);"
                    + " 0 = no limit. A request over it gets 429 with Retry-After and nothing of it is stored.");
    public static final Setting RATE_BURST = new Setting(
            "ingest.rate-burst",
            "0",
            "Events an emitter may send at once above ingest.max-rate before it is held to the rate;"
                    + " 0 = one second's worth.");
    public static final Setting MAX_JSON_DEPTH = new Setting(
            "ingest.max-json-depth",
            "200",
            "Deepest JSON nesting accepted in an ingest event (4 to 1000); a deeper line is rejected.");
    public static final Setting COMMIT_TIMEOUT = new Setting(
            "ingest.commit-timeout",
            "30s",
            "How long an ingest request waits for its events to commit before answering 503 (they stay queued).");
    public static final Setting QUEUE_CAPACITY = new Setting(
            "queue.capacity",
            "100000",
            "Events accepted but not yet committed (cluster mode: in the Redis stream, all nodes); when full, ingest"
                    + " answers 503 + Retry-After.");
    public static final Setting QUEUE_MAX_BYTES = new Setting(
            "queue.max-bytes",
            "256MiB",
            "Most memory the queued events may take (estimated); when reached, ingest answers 503 + Retry-After."
                    + " Single node only; in cluster mode queue.capacity bounds the Redis stream.");
    public static final Setting MAX_BATCH =
            new Setting("persist.max-batch", "2000", "Most events the receiver writes in one COPY transaction.");
    public static final Setting MAX_RETRY_BACKOFF = new Setting(
            "persist.max-retry-backoff",
            "10s",
            "Longest pause between retries while the database is failing (backoff doubles up to this).");
    public static final Setting OUTBOX_CAPACITY = new Setting(
            "ws.outbox-capacity",
            "10000",
            "Event messages queued per websocket subscriber; a job that overflows it is caught up from the store.");
    public static final Setting WS_OUTBOX_MAX_BYTES = new Setting(
            "ws.outbox-max-bytes",
            "16MiB",
            "Bytes of event messages held per websocket connection (queued, or given to the socket and not yet"
                    + " written); beyond it the job is caught up from the store as the client reads, as for a full"
                    + " outbox. A connection holding nothing always gets one message.");
    public static final Setting WS_OUTBOX_MAX_BYTES_PER_USER = new Setting(
            "ws.outbox-max-bytes-per-user",
            "64MiB",
            "The same over all websocket connections of one user, for messages built for one subscriber (read from"
                    + " the store: resume, gap fill, catch-up; live frames are shared by a job's subscribers and count"
                    + " per connection only): a user whose clients stop reading holds at most this (plus one message),"
                    + " and only that user's other connections wait.");
    public static final Setting WS_OUTBOX_MAX_BYTES_TOTAL = new Setting(
            "ws.outbox-max-bytes-total",
            "256MiB",
            "The same over the node (metric ws_outbox_bytes); when reached, only connections holding nothing get"
                    + " a message, one at a time. At most a quarter of the heap is used whatever this says (logged at"
                    + " start). Each queued message also counts its queue entry (64 bytes) here and per user, live"
                    + " frames shared by a job's subscribers included.");
    public static final Setting GAP_WAIT = new Setting(
            "ws.gap-wait",
            "2s",
            "How long a subscriber holds later events of a job while an earlier counter is missing, before it"
                    + " fills the gap from the store.");
    public static final Setting HOLE_WAIT = new Setting(
            "ws.hole-wait",
            "5s",
            "How long a counter missing from the store (while later ones are stored) is waited for before"
                    + " subscribers skip it (logged, counted in ws_holes_skipped_total).");
    public static final Setting MAX_EVENT_RATE = new Setting(
            "ws.max-event-rate",
            "0",
            "AWX's MAX_WEBSOCKET_EVENT_RATE: events per second per job sent live to each subscriber; 0 = no limit."
                    + " The excess is not dropped: it follows from the store at that rate.");
    public static final Setting WS_MAX_MESSAGE_SIZE = new Setting(
            "ws.max-message-size",
            "64KiB",
            "Largest message a browser may send on the websocket; a larger one closes the connection with 1009.");
    public static final Setting WS_MAX_SUBSCRIPTIONS = new Setting(
            "ws.max-subscriptions",
            "100",
            "Groups one websocket connection may be subscribed to; a subscribe asking for more gets an error and"
                    + " changes nothing.");
    public static final Setting WS_MAX_CONNECTIONS_PER_USER = new Setting(
            "ws.max-connections-per-user",
            "100",
            "Open websocket connections and server-sent-events streams per user; one more websocket is closed at the"
                    + " handshake with 1008, one more stream is answered 429; 0 = no limit.");
    public static final Setting WS_MAX_MESSAGE_RATE = new Setting(
            "ws.max-message-rate",
            "20",
            "Messages per second a browser may send on one websocket connection; the excess gets an error"
                    + " reply and is ignored; 0 = no limit.");
    public static final Setting WS_MAX_SUBSCRIBES_PER_USER = new Setting(
            "ws.max-subscribes-per-user",
            "500",
            "Jobs that one user's subscribe messages may name per second over all its websocket connections (what a"
                    + " subscribe costs grows with its jobs: access check, position read, hub changes; 500 lets every"
                    + " tab of a user resubscribe at once, a window's first message always passes); the excess gets an"
                    + " error reply and changes nothing; 0 = no limit.");
    public static final Setting WS_MAX_REFUSED_MESSAGES = new Setting(
            "ws.max-refused-messages",
            "50",
            "Refused messages (over a rate, malformed, wrong xrftoken, too many groups, jobs it may not see) one"
                    + " websocket connection may send in any 10 s; one more closes it with 1008 (metric"
                    + " ws_disconnects_total{reason=\"refused_messages\"}) and its user's new connections are refused"
                    + " for ws.refused-block. Past the first refusals each costs the node almost nothing, but the"
                    + " sender is told once and then cut off rather than answered for ever; 0 = never close.");
    public static final Setting WS_REFUSED_BLOCK = new Setting(
            "ws.refused-block",
            "30s",
            "How long a user whose websocket was closed for ws.max-refused-messages has new websocket connections"
                    + " refused: 429 before the upgrade with the closed connection's credential (no credential check),"
                    + " 1008 at the handshake with another (metric ws_disconnects_total{reason=\"refused_user\"}); its"
                    + " other open connections are left alone; 0s = not at all.");
    public static final Setting WS_MAX_JSON_DEPTH = new Setting(
            "ws.max-json-depth",
            "16",
            "Deepest JSON nesting accepted in a websocket message (AWX's messages need 3); a deeper one gets an error.");
    public static final Setting WS_IDLE_TIMEOUT = new Setting(
            "ws.idle-timeout",
            "30s",
            "Close a websocket connection on which nothing moves for this long: the browser sends nothing and the"
                    + " node's writes to it are stuck (it stopped reading). The node pings every 20 s (or half this"
                    + " timeout if shorter), which keeps a quiet, healthy browser's connection moving.");
    public static final Setting SSE_HEARTBEAT = new Setting(
            "sse.heartbeat",
            "15s",
            "How often an idle server-sent-events stream (/api/v2/jobs/{id}/events/stream/) gets a comment line, so"
                    + " that proxies and load balancers keep it open (at most half http.idle-timeout is used). Streams"
                    + " count against ws.max-connections-per-user and the ws.outbox-max-bytes budgets.");
    public static final Setting REDIS_URL = new Setting(
            "redis-url",
            "",
            "Cluster mode: Redis (redis://host:port[/db]) for the durable event stream, callback_tasks and the"
                    + " cross-node broadcast; empty = single node with an in-process queue.");
    public static final Setting NODE_NAME = new Setting(
            "node-name",
            "",
            "This node's name in the cluster (Redis consumer, heartbeat key); empty = <hostname>-<pid>.");
    public static final Setting NODE_TIMEOUT = new Setting(
            "redis.node-timeout",
            "10s",
            "A node whose heartbeat is older than this is dead: others claim its uncommitted events.");
    public static final Setting REDIS_WAIT_AOF = new Setting(
            "redis.wait-aof",
            "false",
            "Cluster mode: answer ingest 2xx only once Redis has fsync'd the events to its AOF (WAITAOF; needs Redis"
                    + " >= 7.2 with appendonly yes, else the node refuses to start). Off: what a 2xx is worth follows"
                    + " Redis' appendfsync, as logged at start and shown in stats.");
    public static final Setting HTTP_IDLE_TIMEOUT = new Setting(
            "http.idle-timeout",
            "30s",
            "Close an HTTP connection that sends nothing for this long (a stalled or slowloris client).");
    public static final Setting HTTP_MIN_REQUEST_RATE = new Setting(
            "http.min-request-rate",
            "1KiB",
            "Slowest request body upload accepted, per second; a slower one is cut off with 408 (0 = no minimum).");
    public static final Setting HTTP_DOWNLOAD_PAGE_SIZE = new Setting(
            "http.download-page-size",
            "4MiB",
            "Stdout read from the store per query while a job's stdout is streamed (at least one event); a download"
                    + " that waits for a slow client holds about twice this in memory.");
    public static final Setting HTTP_MIN_RESPONSE_RATE = new Setting(
            "http.min-response-rate",
            "1KiB",
            "Slowest a client may read a stdout response, per second on average from 10 s after it starts; a slower"
                    + " one is cut off, so reading slowly cannot hold a thread and memory past the idle timeout"
                    + " (0 = no minimum).");
    public static final Setting HTTP_MAX_REQUESTS_PER_USER = new Setting(
            "http.max-requests-per-user",
            "8",
            "HTTP requests one user (or one API token) may have in progress at once, downloads included, ingest"
                    + " excepted (it has ingest.max-rate and the queue); one more gets 429 with Retry-After at once"
                    + " (http_refused_total{reason=requests_per_user}), so one user's requests cannot take every"
                    + " server thread. 0 = no limit.");
    public static final Setting HTTP_MAX_CPU_PER_USER = new Setting(
            "http.max-cpu-per-user",
            "0.5",
            "CPU one user's HTTP requests may use on average, in cores (0.5 = half of one core), whatever the kind of"
                    + " request: each request's thread CPU is charged to its user after it ran, and while a user has"
                    + " spent more than this share (after http.cpu-burst-per-user) their next request gets 429 with"
                    + " Retry-After at once (http_refused_total{reason=cpu_per_user}). Ingest and event streams are"
                    + " excepted (ingest.max-rate and the queue bound them), and so are superusers. 0 = no limit.");
    public static final Setting HTTP_CPU_BURST_PER_USER = new Setting(
            "http.cpu-burst-per-user",
            "2s",
            "CPU time one user's requests may spend at once before http.max-cpu-per-user applies: enough for the"
                    + " costliest single request (a 1,000-host timeline built from the store takes about 1 s).");
    public static final Setting HTTP_MAX_DOWNLOADS_PER_USER = new Setting(
            "http.max-downloads-per-user",
            "4",
            "Stdout responses (any format) one user may have in progress at once; one more gets 429 with"
                    + " Retry-After (http_refused_total{reason=downloads_per_user}). 0 = no limit.");
    public static final Setting HTTP_TRUSTED_PROXIES = new Setting(
            "http.trusted-proxies",
            "",
            "Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto the node believes: comma-separated addresses"
                    + " and CIDR ranges, IPv4 and IPv6 (e.g. 127.0.0.1,::1 for nginx on the same host). Only a request"
                    + " whose TCP peer is in the list has its client address taken from X-Forwarded-For (the rightmost"
                    + " entry that is not itself a trusted proxy) and its scheme from X-Forwarded-Proto (https: Secure"
                    + " cookies); from anyone else both are ignored. Empty = trust nobody: behind a proxy every client"
                    + " then has the proxy's address.");
    public static final Setting TLS_CERT = new Setting(
            "tls-cert",
            "",
            "PEM certificate (chain) file: serve https and wss instead of http and ws on the same port. Needs tls-key.");
    public static final Setting TLS_KEY = new Setting(
            "tls-key",
            "",
            "PEM private key file for tls-cert (PKCS#8 'BEGIN PRIVATE KEY', as openssl 3 writes; not encrypted).");
    public static final Setting TLS_SELF_SIGNED = new Setting(
            "tls-self-signed",
            "false",
            "Serve https and wss with a self-signed certificate for localhost, made once and kept in data-dir/tls.");
    public static final Setting DEMO = new Setting(
            "demo",
            "false",
            "Keep sample jobs streaming: the shipped playbooks run in a loop when ansible-playbook is on PATH, else a"
                    + " recorded real Ansible run is replayed at its original pace.");
    public static final Setting PLAYBOOK_DIR = new Setting(
            "playbook-dir",
            "./playbooks",
            "Directory of the playbooks and inventories POST /api/v2/jobs/ may run; nothing outside it can run.");
    public static final Setting JOBS_MAX_RUNNING = new Setting(
            "jobs.max-running",
            "4",
            "ansible-playbook processes run at once; further launched jobs wait in status pending.");
    public static final Setting JOBS_MAX_PENDING = new Setting(
            "jobs.max-pending", "100", "Launched jobs waiting for a free slot; a launch beyond it gets 503.");
    public static final Setting JOBS_MAX_RUNNING_PER_USER = new Setting(
            "jobs.max-running-per-user",
            "3",
            "ansible-playbook processes one user runs at once, even when slots are free, so a slot stays for others;"
                    + " when a slot frees, the waiting user with the fewest running jobs goes next (round robin);"
                    + " 0 (or more than jobs.max-running) = jobs.max-running.");
    public static final Setting JOBS_MAX_PENDING_PER_USER = new Setting(
            "jobs.max-pending-per-user",
            "20",
            "Launched jobs one user may have waiting for a slot; one more gets 429 (counted in jobs_refused_total).");
    public static final Setting JOBS_MAX_LAUNCHES_PER_MINUTE = new Setting(
            "jobs.max-launches-per-minute",
            "60",
            "Launches one user may make in any minute (each makes a job row, even one canceled while it waits); one"
                    + " more gets 429 with Retry-After (counted in jobs_refused_total{reason=rate}); 0 = no limit.");
    public static final Setting JOBS_PASS_ENV = new Setting(
            "jobs.pass-env",
            "SSH_AUTH_SOCK",
            "Comma-separated names of the node's environment variables that ansible-playbook also gets; it gets"
                    + " only PATH, HOME, USER, LOGNAME, SHELL, TZ, TMPDIR, LANG, LANGUAGE, LC_*, ANSIBLE_* and these.");
    public static final Setting JOBS_CANCEL_GRACE = new Setting(
            "jobs.cancel-grace",
            "10s",
            "After a cancel's SIGINT, how long before SIGTERM, and as long again before SIGKILL.");
    public static final Setting JOBS_LOST_NODE_TIMEOUT = new Setting(
            "jobs.lost-node-timeout",
            "5m",
            "Cluster mode: a node with no Redis heartbeat for this long is lost, and another node ends its launched"
                    + " jobs (status error, the explanation names the node; canceled if a cancel was asked for; their"
                    + " ingest tokens revoked). Must be longer than redis.node-timeout, so that a node only slow keeps"
                    + " its jobs; 0 = never (a cancel, or that node's next start, ends them).");
    public static final Setting JOBS_NICE = new Setting(
            "jobs.nice",
            "10",
            "CPU priority of launched jobs, 0 (as the node) to 19 (only what the node leaves): the nice of"
                    + " ansible-playbook and its forks, and of their session's scheduler autogroup, so that playbooks"
                    + " yield the CPU to the node's websockets and REST when both want it.");
    public static final Setting ANSIBLE_PLAYBOOK = new Setting(
            "jobs.ansible-playbook",
            "ansible-playbook",
            "The ansible-playbook command launched jobs run (looked up on PATH unless a path).");
    public static final Setting ADMIN_PASSWORD = new Setting(
            "admin-password",
            "",
            "Password of the 'admin' superuser created on the very first start (when there is no user yet); empty = a"
                    + " random one, printed once to the log. Ignored once users exist. Prefer the env var to the flag.");
    public static final Setting SESSION_TIMEOUT = new Setting(
            "auth.session-timeout",
            "8h",
            "How long a login (the sessionid cookie) lasts; kept in PostgreSQL, so any node accepts it.");
    public static final Setting BASIC_CACHE = new Setting(
            "auth.basic-cache",
            "5m",
            "How long a node remembers a verified HTTP Basic credential, so the slow password hash runs once per"
                    + " period rather than per request (0s = never remember). A password change ends it at once.");
    public static final Setting FAILED_LOGINS_PER_ADDRESS = new Setting(
            "auth.failed-logins-per-address",
            "20",
            "Failed password checks (HTTP Basic, login form) one client address may make per minute (also the burst);"
                    + " beyond it, password checks from that address get 429 with Retry-After and cost no hashing."
                    + " Credentials verified within auth.basic-cache still pass.");
    public static final Setting FAILED_LOGINS_PER_USER = new Setting(
            "auth.failed-logins-per-user",
            "10",
            "Failed password checks per minute for one username, known or not, from any address (also the burst);"
                    + " beyond it, password checks for that name get 429 with Retry-After.");
    public static final Setting FAILED_REQUESTS_PER_ADDRESS = new Setting(
            "auth.failed-requests-per-address",
            "300",
            "Requests with failed credentials (bad token, session, password or header, throttled logins) one client"
                    + " address may make per minute (also the burst); beyond it, credentials from that address get 429"
                    + " with Retry-After before any lookup or hashing (auth_throttled_total{by=failing_address}),"
                    + " except those verified within auth.basic-cache. Requests without credentials do not count."
                    + " Behind a proxy every client shares its address: raise it. 0 = no limit.");
    public static final Setting HASH_CONCURRENCY = new Setting(
            "auth.hash-concurrency",
            "0",
            "Password hashes (PBKDF2, about 0.2 s of CPU each) the node runs at once; others wait up to"
                    + " auth.hash-wait, then get 503 with Retry-After. 0 = half the processors, at least 1.");
    public static final Setting HASH_WAIT = new Setting(
            "auth.hash-wait",
            "2s",
            "How long a password check waits for a free hashing slot (auth.hash-concurrency) before 503.");
    public static final Setting MAX_TOKENS_PER_USER = new Setting(
            "auth.max-tokens-per-user",
            "100",
            "Tokens (API and ingest) one user may hold; one more gets 400 until they delete some.");
    public static final Setting MAX_SESSIONS_PER_USER = new Setting(
            "auth.max-sessions-per-user",
            "100",
            "Login sessions (sessionid / awx_sessionid cookies: /login/, /api/login/, awxkit's load_session) one user"
                    + " may hold; a login beyond it ends that user's oldest session (auth_sessions_ended_total"
                    + "{reason=over_limit}), whose websockets close at the next access re-check. Scripts that log in"
                    + " on every run should use a token instead.");
    public static final Setting MAX_NEW_JOBS_PER_USER = new Setting(
            "auth.max-new-jobs-per-user",
            "20",
            "Jobs one user may hold that an ingest token allocated and that have received no event yet; one more"
                    + " token without \"job\" gets 400.");
    public static final Setting MAX_NEW_PARTITIONS = new Setting(
            "ingest.max-new-partitions",
            "60",
            "New event partitions (one table per 1,000 job ids) trusted writers may start per minute on this node,"
                    + " also the burst; jobs beyond it are rejected with their line (429 when nothing else was"
                    + " stored). 0 = no limit.");
    public static final Setting LAUNCH_BY = new Setting(
            "jobs.launch-by",
            "users",
            "Who may launch playbooks (POST /api/v2/jobs/): 'users' (any logged-in user) or 'admins'.");

    public static final Setting REDACT_PATTERN = new Setting(
            "redact-pattern",
            "",
            "Regular expression (Java syntax) whose every match in stdout and in every string (and key) of event_data"
                    + " is replaced with ******** at ingest, before the event is queued, stored or sent; repeat the"
                    + " flag for several, the environment variable takes one per line. Empty = none (only no_log"
                    + " results are censored). Invalid patterns and patterns matching the empty string stop startup.",
            "JOBSTREAM_REDACT_PATTERNS");
    public static final Setting RETENTION_EVENTS = new Setting(
            "retention-events",
            "0",
            "Delete the events and stdout of jobs that finished longer ago than this (e.g. 30d); the job row stays,"
                    + " with its counts, host summary and events_expired: true. Jobs not finished are never touched."
                    + " 0 = keep forever; otherwise from 1m to 36500d.");
    public static final Setting RETENTION_JOBS = new Setting(
            "retention-jobs",
            "0",
            "Delete whole jobs (row and events) that finished longer ago than this (e.g. 365d). 0 = keep forever;"
                    + " otherwise from 1m to 36500d.");
    public static final Setting RETENTION_INTERVAL = new Setting(
            "retention.interval",
            "10m",
            "How often the node applies retention-events and retention-jobs (one node at a time in a cluster: the"
                    + " others skip while one holds the cleanup lock). From 1s to 24h.");
    public static final Setting RETENTION_BATCH_SIZE = new Setting(
            "retention.batch-size",
            "5000",
            "Events deleted per transaction when expired events share a partition with events that stay (whole"
                    + " partitions are truncated or dropped instead). Small batches keep each transaction short.");

    public static final List<Setting> ALL = List.of(
            REDACT_PATTERN,
            HOST,
            PORT,
            DATA_DIR,
            DATABASE_URL,
            DATABASE_BINARIES_DIR,
            DATABASE_POOL_SIZE,
            MAX_EVENT_SIZE,
            MAX_REQUEST_SIZE,
            MAX_RATE,
            RATE_BURST,
            MAX_JSON_DEPTH,
            COMMIT_TIMEOUT,
            QUEUE_CAPACITY,
            QUEUE_MAX_BYTES,
            MAX_BATCH,
            MAX_RETRY_BACKOFF,
            OUTBOX_CAPACITY,
            WS_OUTBOX_MAX_BYTES,
            WS_OUTBOX_MAX_BYTES_PER_USER,
            WS_OUTBOX_MAX_BYTES_TOTAL,
            GAP_WAIT,
            HOLE_WAIT,
            MAX_EVENT_RATE,
            WS_MAX_MESSAGE_SIZE,
            WS_MAX_SUBSCRIPTIONS,
            WS_MAX_CONNECTIONS_PER_USER,
            WS_MAX_MESSAGE_RATE,
            WS_MAX_SUBSCRIBES_PER_USER,
            WS_MAX_REFUSED_MESSAGES,
            WS_REFUSED_BLOCK,
            WS_MAX_JSON_DEPTH,
            WS_IDLE_TIMEOUT,
            SSE_HEARTBEAT,
            HTTP_IDLE_TIMEOUT,
            HTTP_MIN_REQUEST_RATE,
            HTTP_DOWNLOAD_PAGE_SIZE,
            HTTP_MIN_RESPONSE_RATE,
            HTTP_MAX_REQUESTS_PER_USER,
            HTTP_MAX_DOWNLOADS_PER_USER,
            HTTP_MAX_CPU_PER_USER,
            HTTP_CPU_BURST_PER_USER,
            HTTP_TRUSTED_PROXIES,
            TLS_CERT,
            TLS_KEY,
            TLS_SELF_SIGNED,
            REDIS_URL,
            NODE_NAME,
            NODE_TIMEOUT,
            REDIS_WAIT_AOF,
            DEMO,
            PLAYBOOK_DIR,
            JOBS_MAX_RUNNING,
            JOBS_MAX_PENDING,
            JOBS_MAX_RUNNING_PER_USER,
            JOBS_MAX_PENDING_PER_USER,
            JOBS_MAX_LAUNCHES_PER_MINUTE,
            JOBS_PASS_ENV,
            JOBS_CANCEL_GRACE,
            JOBS_LOST_NODE_TIMEOUT,
            JOBS_NICE,
            ANSIBLE_PLAYBOOK,
            ADMIN_PASSWORD,
            SESSION_TIMEOUT,
            BASIC_CACHE,
            LAUNCH_BY,
            FAILED_LOGINS_PER_ADDRESS,
            FAILED_LOGINS_PER_USER,
            FAILED_REQUESTS_PER_ADDRESS,
            HASH_CONCURRENCY,
            HASH_WAIT,
            MAX_TOKENS_PER_USER,
            MAX_SESSIONS_PER_USER,
            MAX_NEW_JOBS_PER_USER,
            MAX_NEW_PARTITIONS,
            RETENTION_EVENTS,
            RETENTION_JOBS,
            RETENTION_INTERVAL,
            RETENTION_BATCH_SIZE);

    /** Settings that are switches: given alone ({@code --demo}) they mean true. */
    /** Settings given once per value on the command line, joined with newlines (as their variable holds them). */
    public static boolean isRepeatable(Setting s) {
        return s == REDACT_PATTERN;
    }

    public static boolean isSwitch(Setting s) {
        return s == DEMO || s == TLS_SELF_SIGNED;
    }

    private Settings() {}
}
