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
        for (Throwable t = failure; t != null && messages.size() < 5; t = t.getCause()) {
            if (t instanceof BindException) {
                return "port " + http.port() + " on " + http.host() + " is in use by another program: stop it, or"
                        + " choose another port with --port (env JOBSTREAM_PORT)";
            }
            String m = t.getMessage();
            // each cause once: wrappers often repeat their cause's message
            if (m != null && !m.isBlank() && messages.stream().noneMatch(earlier -> earlier.contains(m.strip())))
                messages.add(m.strip());
            if (t.getCause() == t) break;
        }
        return messages.isEmpty() ? failure.getClass().getSimpleName() : String.join(": ", messages);
    }
}
