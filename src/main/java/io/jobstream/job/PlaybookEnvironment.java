package io.jobstream.job;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The environment ansible-playbook starts with, built from an allow-list rather than inherited: the node's own
 * environment holds its secrets ({@code JOBSTREAM_ADMIN_PASSWORD}, a database or Redis URL with its password, cloud
 * credentials of whoever started it), and a playbook can print any variable it sees
 * ({@code lookup('env', …)}, a {@code command: env} task), so nothing reaches it unless listed here:
 *
 * <ul>
 *   <li>what a process needs to run: {@code PATH}, {@code HOME}, {@code USER}, {@code LOGNAME}, {@code SHELL},
 *       {@code TZ}, {@code TMPDIR}, {@code LANG}, {@code LANGUAGE}, {@code LC_*};</li>
 *   <li>{@code ANSIBLE_*}: Ansible's configuration (ANSIBLE_CONFIG, ANSIBLE_ROLES_PATH, …), which whoever starts the
 *       node sets for its playbooks on purpose; the node then sets the ones it owns (callback, colour) over them;</li>
 *   <li>the names in {@code jobs.pass-env} (default {@code SSH_AUTH_SOCK}, so playbooks can reach hosts through
 *       the operator's ssh agent).</li>
 * </ul>
 *
 * The launcher then adds the plugin's {@code JOBSTREAM_URL}, {@code JOBSTREAM_JOB_ID}, {@code JOBSTREAM_TOKEN}
 * (good for this job's events only) and {@code JOBSTREAM_CA_FILE}; no other {@code JOBSTREAM_*} variable passes.
 */
final class PlaybookEnvironment {
    private static final Set<String> BASE =
            Set.of("PATH", "HOME", "USER", "LOGNAME", "SHELL", "TZ", "TMPDIR", "LANG", "LANGUAGE");

    private PlaybookEnvironment() {}

    /** The allowed part of {@code node}: see the class comment. */
    static Map<String, String> allowed(Map<String, String> node, Collection<String> passEnv) {
        Map<String, String> env = new TreeMap<>();
        node.forEach((name, value) -> {
            if (BASE.contains(name)
                    || name.startsWith("LC_")
                    || name.startsWith("ANSIBLE_")
                    || passEnv.contains(name)) {
                env.put(name, value);
            }
        });
        return env;
    }
}
