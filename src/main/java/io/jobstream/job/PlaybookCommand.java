package io.jobstream.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.config.Config.JobsConfig;
import io.jobstream.config.PrivateFiles;
import io.jobstream.event.CaptureLevel;
import io.jobstream.event.Json;
import io.jobstream.event.Redactor;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How one launched job's {@code ansible-playbook} is started: its command line, its files under
 * {@code <data-dir>/jobs/<id>/}, and its environment. Everything a user passes is data, never code: each value is
 * glued to its option and the playbook follows {@code --}; extra_vars arrive as a file of {@code !unsafe} strings
 * ({@link UnsafeYaml}); the environment is allow-listed ({@link PlaybookEnvironment}) before the node adds its own.
 *
 * <p>Built once by {@link JobLauncher}, which calls {@link #extractPlugin} at start; stateless after that, so any
 * worker thread may use it.
 */
final class PlaybookCommand {
    private static final Logger LOG = LoggerFactory.getLogger(PlaybookCommand.class);
    private final JobsConfig config;
    private final PlaybookDir playbooks;
    private final Path dataDir;
    private final Supplier<URI> nodeUri;
    private final Supplier<Path> caFile;
    private final JobTokens tokens;
    private final Redactor redactor;
    private final JobPriority priority;
    private volatile Path pluginDir;

    /** @param redactor the operator's patterns, applied to the terminal transcript as to the job's events */
    PlaybookCommand(
            JobsConfig config,
            Path dataDir,
            Supplier<URI> nodeUri,
            Supplier<Path> caFile,
            JobTokens tokens,
            Redactor redactor) {
        this.config = config;
        this.playbooks = new PlaybookDir(config.playbookDir());
        this.dataDir = dataDir.toAbsolutePath().normalize();
        this.nodeUri = nodeUri;
        this.caFile = caFile;
        this.tokens = tokens;
        this.redactor = redactor;
        this.priority = new JobPriority(config.nice());
    }

    JobPriority priority() {
        return priority;
    }

    /** Writes the callback plugin under the data dir. */
    void extractPlugin() {
        pluginDir = PluginFiles.extract(dataDir);
    }

    PlaybookDir playbooks() {
        return playbooks;
    }

    /** Where each job's files are kept, a directory per job id. */
    Path jobsDir() {
        return dataDir.resolve("jobs");
    }

    /** Where the terminal output of job {@code id}'s process is kept. */
    Path outputFile(long jobId) {
        return jobsDir().resolve(Long.toString(jobId)).resolve("stdout");
    }

    /**
     * The job's own temporary directory, its processes' {@code TMPDIR} and Ansible's local temp: a module killed by a
     * cancel leaves its unpacked payload ({@code ansible_<module>_payload_*}) behind, and that goes with the job's
     * directory (deleted when the job's processes have ended) instead of piling up in the machine's {@code /tmp}.
     */
    Path tempDir(long jobId) {
        return outputFile(jobId).resolveSibling("tmp");
    }

    /**
     * The run's marker ({@link JobProcesses}), kept while its processes may run: a node killed meanwhile cannot end
     * them, and the next start on the data dir finds them by it ({@link LeftoverRuns}).
     */
    Path markerFile(long jobId) {
        return outputFile(jobId).resolveSibling("run-marker");
    }

    /**
     * Deletes the job's temporary directory and its marker file; call once none of its processes runs any more (or
     * it never started).
     */
    void removeRunFiles(long jobId) {
        try {
            PrivateFiles.deleteTree(tempDir(jobId));
            Files.deleteIfExists(markerFile(jobId));
        } catch (IOException | RuntimeException e) {
            LOG.warn("job {}: cannot delete its temporary directory or marker: {}", jobId, e.toString());
        }
    }

    /** YAML with every string !unsafe ({@link UnsafeYaml}). */
    private Path extraVarsFile(long id) {
        return outputFile(id).resolveSibling("extra_vars.yml");
    }

    /** A launch's checked inputs: playbook and inventory inside the directory, extra_vars as YAML. */
    record Checked(Path playbook, Path inventory, String extraVarsYaml) {}

    /** Checks a launch's fields (400 on the first bad one); requests parsed from HTTP pass the same gate again. */
    Checked check(LaunchRequest request) {
        LaunchFields.name(request.name());
        LaunchFields.limit(request.limit());
        String extraVars = extraVarsYaml(request.extraVars());
        Path file = playbooks.resolve(LaunchFields.path(request.playbook(), "playbook"), "playbook");
        Path inventory = request.inventory().isEmpty()
                ? defaultInventory()
                : playbooks.resolve(LaunchFields.path(request.inventory(), "inventory"), "inventory");
        if (!request.inventory().isEmpty() && Files.isExecutable(inventory)) {
            // Ansible runs an executable inventory as a script: a user could pick any script of the directory (a
            // playbook's helper) and run it. The default inventory is the operator's choice and may be one.
            throw new LaunchException(
                    400,
                    "inventory '" + request.inventory() + "' is executable, and Ansible would"
                            + " run it as a script: a launch takes a static inventory (or none, for the directory's default)");
        }
        return new Checked(file, inventory, extraVars);
    }

    private static String extraVarsYaml(String json) {
        try {
            JsonNode vars = Json.MAPPER.readTree(json);
            if (vars == null || !vars.isObject()) throw new LaunchException(400, "extra_vars must be a JSON object");
            LaunchFields.checkExtraVars(vars, LaunchFields.utf8Length(json));
            return UnsafeYaml.write(vars);
        } catch (JsonProcessingException e) {
            throw new LaunchException(400, "extra_vars must be a JSON object");
        }
    }

    /** Whether {@code jobs.ansible-playbook} can be run here (on PATH, or an executable path). */
    boolean ansibleAvailable() {
        String cmd = config.ansiblePlaybook();
        if (cmd.contains("/")) return Files.isExecutable(Path.of(cmd));
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String d : path.split(File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, cmd))) return true;
        }
        return false;
    }

    /** The directory's own inventory when a launch names none, or null for Ansible's default. */
    private Path defaultInventory() {
        for (String name : List.of("inventory.ini", "inventory", "hosts")) {
            Path p = playbooks.path().resolve(name);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    /**
     * {@code setsid [nice -n N] ansible-playbook --option=value … -- PLAYBOOK}. setsid (util-linux) makes the job a
     * process group of its own (see {@link JobProcesses}); the JVM's child is never a group leader, so setsid execs in
     * place, as nice does, and the pid we get is ansible-playbook's and the group's. nice: {@link JobPriority}. Each value is glued to its option and the playbook follows
     * {@code --}, so no value, even one that starts with '-', can be read as an option.
     */
    List<String> command(long id, Checked checked, LaunchRequest request) {
        List<String> cmd = new ArrayList<>();
        cmd.add("setsid");
        cmd.addAll(priority.prefix());
        cmd.add(config.ansiblePlaybook());
        if (checked.inventory() != null) cmd.add("--inventory=" + checked.inventory());
        cmd.add("--extra-vars=@" + extraVarsFile(id));
        if (request.verbosity() > 0) cmd.add("-" + "v".repeat(request.verbosity()));
        if (!request.limit().isEmpty()) cmd.add("--limit=" + request.limit());
        cmd.add("--");
        cmd.add(playbooks.path().relativize(checked.playbook()).toString());
        return cmd;
    }

    /**
     * Writes the run's files (directory 0700, files 0600) and starts the process, its terminal output (stdout and
     * stderr merged, as on a terminal) going to {@link #outputFile}, with no input.
     */
    Started start(long jobId, String marker, CaptureLevel capture, List<String> command, String extraVarsYaml)
            throws IOException {
        // setsid would start and then fail to exec it: say so as plainly as when it was started directly
        if (!ansibleAvailable()) throw new IOException("not found (install ansible-core or set jobs.ansible-playbook)");
        Path out = outputFile(jobId);
        PrivateFiles.directory(out.getParent());
        PrivateFiles.writeString(extraVarsFile(jobId), extraVarsYaml);
        PrivateFiles.emptyFile(out);
        PrivateFiles.directory(tempDir(jobId));
        PrivateFiles.writeString(markerFile(jobId), marker); // before the process: it may outlive this node
        // with redaction patterns the node writes the transcript through them; without, the process writes it
        boolean redacted = redactor.hasPatterns();
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(playbooks.path().toFile())
                .redirectErrorStream(true)
                .redirectOutput(redacted ? ProcessBuilder.Redirect.PIPE : ProcessBuilder.Redirect.to(out.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Map<String, String> env = pb.environment();
        Map<String, String> allowed = PlaybookEnvironment.allowed(env, config.passEnv());
        env.clear();
        env.putAll(allowed);
        environment(env, jobId, marker, capture);
        Process process = pb.start();
        return new Started(process, redacted ? Transcript.start(jobId, process.getInputStream(), out, redactor) : null);
    }

    /** A started job: its process, and the thread writing its redacted transcript (null: the process writes it). */
    record Started(Process process, Transcript transcript) {
        /** Waits for the transcript's last line once the job's processes have ended. */
        void awaitTranscript(Duration within) throws InterruptedException {
            if (transcript != null) transcript.await(within);
        }
    }

    /** Sets what the node sets on purpose over the allow-listed environment. */
    private void environment(Map<String, String> env, long jobId, String marker, CaptureLevel capture) {
        env.put(JobProcesses.MARKER_VARIABLE, marker);
        env.put("ANSIBLE_STDOUT_CALLBACK", "jobstream");
        String plugins = env.get("ANSIBLE_CALLBACK_PLUGINS");
        env.put("ANSIBLE_CALLBACK_PLUGINS", pluginDir + (plugins == null || plugins.isEmpty() ? "" : ":" + plugins));
        env.put("ANSIBLE_FORCE_COLOR", "1");
        env.remove("ANSIBLE_NOCOLOR");
        env.remove("NO_COLOR");
        // Unbuffered, so stdout and stderr reach the output file in the order they were written (as on a terminal).
        env.put("PYTHONUNBUFFERED", "1");
        env.putIfAbsent("ANSIBLE_RETRY_FILES_ENABLED", "false");
        // what the job unpacks on this machine stays in its own directory (see tempDir); an operator's
        // ANSIBLE_LOCAL_TEMP is kept. Never ANSIBLE_REMOTE_TEMP: that path is on the managed hosts.
        env.put("TMPDIR", tempDir(jobId).toString());
        env.putIfAbsent("ANSIBLE_LOCAL_TEMP", tempDir(jobId).toString());
        if (!isUtf8(env.get("LC_ALL")) && !isUtf8(env.get("LANG"))) env.put("LC_ALL", "C.UTF-8");
        env.put("JOBSTREAM_URL", nodeUri.get().toString());
        env.put("JOBSTREAM_JOB_ID", Long.toString(jobId));
        // good for this job's events only, revoked when the run ends (see JobLauncher.end); it carries the launch's
        // capture level, so the node applies it to whatever the plugin sends
        env.put("JOBSTREAM_TOKEN", tokens.issue(jobId, capture));
        Path ca = caFile.get();
        if (ca != null) env.put("JOBSTREAM_CA_FILE", ca.toString());
    }

    private static boolean isUtf8(String locale) {
        return locale != null && locale.toUpperCase().replace("-", "").contains("UTF8");
    }
}
