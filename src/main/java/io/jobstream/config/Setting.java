package io.jobstream.config;

import java.util.Locale;

/** One setting: its key (also the flag {@code --key} with dots as dashes), environment variable, default, doc. */
public record Setting(String key, String defaultValue, String doc, String envName) {
    public Setting(String key, String defaultValue, String doc) {
        this(key, defaultValue, doc, null);
    }

    /** {@code JOBSTREAM_} and the key, unless the setting names its variable (a list's is plural). */
    public String env() {
        if (envName != null) return envName;
        return "JOBSTREAM_" + key.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    public String flag() {
        return "--" + key.replace('.', '-');
    }
}
