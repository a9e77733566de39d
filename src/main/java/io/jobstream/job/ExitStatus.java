package io.jobstream.job;

/**
 * The final status of a launched job, from how its ansible-playbook process ended:
 * <ul>
 *   <li>canceled through the API (whatever the exit code) → {@code canceled};
 *   <li>exit code 0 → {@code successful};
 *   <li>2 (a host failed), 4 (a host was unreachable), 8 (a play stopped on failures: any_errors_fatal,
 *       max_fail_percentage) or any combination of these bits → {@code failed}: the playbook ran and hosts failed;
 *   <li>anything else (1 error, 5 bad options, 6 bad encoding, 99 interrupted, 250 unexpected error, a signal, or
 *       the process could not start) → {@code error}: the playbook did not run to its end.
 * </ul>
 * ansible-playbook also exits 4 for a parse error of the playbook (before any host ran); it cannot be told from
 * unreachable hosts by the code alone, so such a job is {@code failed} too (AWX calls every non-zero exit failed).
 */
public final class ExitStatus {
    private static final int HOST_FAILURE_BITS = 2 | 4 | 8;

    private ExitStatus() {}

    public static String of(int exitCode, boolean canceled) {
        if (canceled) return "canceled";
        if (exitCode == 0) return "successful";
        if (exitCode > 0 && (exitCode & ~HOST_FAILURE_BITS) == 0) return "failed";
        return "error";
    }

    /** What the job's row says about its end, next to {@code status} (empty for a success or failed hosts). */
    static String explanation(String status, int exitCode) {
        return switch (status) {
            case "canceled" -> "canceled (ansible-playbook exited with code " + exitCode + ")";
            case "error" -> "ansible-playbook exited with code " + exitCode;
            default -> "";
        };
    }
}
