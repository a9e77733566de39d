package io.jobstream.cli;

import io.jobstream.config.Config;
import java.net.BindException;
import java.util.ArrayList;
import java.util.List;

/** One line that says why {@code serve} could not start, in the user's terms (a flag to change), without a trace. */
final class StartFailure {
    private StartFailure() {}

    static String describe(Throwable failure, Config.HttpConfig http) {
        List<String> messages = new ArrayList<>();
        // a bounded walk: a chain of causes may loop back on itself (a → b → a), which getCause() does not prevent
        int depth = 0;
        for (Throwable t = failure; t != null && depth < 8; t = t.getCause(), depth++) {
            if (t instanceof BindException) {
                return "port " + http.port() + " on " + http.host() + " is in use by another program: stop it, or"
                        + " choose another port with --port (env JOBSTREAM_PORT)";
            }
            String m = t.getMessage();
            // each cause once: wrappers often repeat their cause's message
            if (m != null && !m.isBlank() && messages.stream().noneMatch(earlier -> earlier.contains(m.strip())))
                messages.add(m.strip());
        }
        return messages.isEmpty() ? failure.getClass().getSimpleName() : String.join(": ", messages);
    }
}
