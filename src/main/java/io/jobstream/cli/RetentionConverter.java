package io.jobstream.cli;

import io.jobstream.config.ConfigLoader;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** A retention period on the command line, with the settings' rules: 0, or 1m to 36500d (30d, 12h, …). */
final class RetentionConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
        try {
            return ConfigLoader.parseRetention(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException("'" + value + "' " + e.getMessage());
        }
    }
}
