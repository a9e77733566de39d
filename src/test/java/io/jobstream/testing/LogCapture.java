package io.jobstream.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Captures what the node logs while open, with jobstream's own loggers at DEBUG so that every log statement on the
 * path under test runs: for tests that the logs carry ids and kinds, never payloads or credentials.
 */
public final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {
    private final List<String> lines = new ArrayList<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final Logger ours = (Logger) LoggerFactory.getLogger("io.jobstream");
    private final Level oursBefore;

    public LogCapture() {
        oursBefore = ours.getLevel();
        ours.setLevel(Level.DEBUG);
        setContext(root.getLoggerContext());
        start();
        root.addAppender(this);
    }

    @Override
    protected synchronized void append(ILoggingEvent e) {
        String line = e.getLoggerName() + " " + e.getFormattedMessage();
        if (e.getThrowableProxy() != null) line += "\n" + ThrowableProxyUtil.asString(e.getThrowableProxy());
        lines.add(line);
    }

    /** Every line logged so far: logger name, message and any stack trace. */
    public synchronized List<String> lines() {
        return List.copyOf(lines);
    }

    @Override
    public void close() {
        root.detachAppender(this);
        stop();
        ours.setLevel(oursBefore);
    }
}
