package io.jobstream.cli;

import io.jobstream.config.ConfigLoader;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Durations on the command line are spelled as in settings: 500ms, 30s, 5m, 1h. */
final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
        try {
            return ConfigLoader.parseDuration(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException("'" + value + "' " + e.getMessage());
        }
    }
}
