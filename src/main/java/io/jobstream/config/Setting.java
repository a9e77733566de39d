package io.jobstream.config;

import java.util.Locale;

/** One setting: its key (also the flag {@code --key} with dots as dashes), environment variable, default, doc. */
public record Setting(String key, String defaultValue, String doc) {
    public String env() {
        return "JOBSTREAM_" + key.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    public String flag() {
        return "--" + key.replace('.', '-');
    }
}
