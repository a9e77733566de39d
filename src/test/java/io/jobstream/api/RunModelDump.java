package io.jobstream.api;

/** Every field of a {@link RunModel}, in order: two models that dump alike answer alike. */
final class RunModelDump {
    private RunModelDump() {}

    static String dump(RunModel m) {
        StringBuilder s = new StringBuilder();
        s.append(m.rows())
                .append(' ')
                .append(m.maxCounter())
                .append(' ')
                .append(m.lastMicros())
                .append(' ');
        s.append(m.hasStats())
                .append(' ')
                .append(m.size())
                .append(' ')
                .append(m.hosts())
                .append('\n');
        for (RunModel.Task t : m.tasks()) {
            s.append(t.uuid)
                    .append('|')
                    .append(t.play)
                    .append('|')
                    .append(t.name)
                    .append('|')
                    .append(t.ordinal);
            s.append('|')
                    .append(t.counter)
                    .append('|')
                    .append(t.start)
                    .append('|')
                    .append(t.key())
                    .append('\n');
            for (RunModel.HostRun h : t.hosts.values()) {
                s.append("  ")
                        .append(h.host)
                        .append(' ')
                        .append(h.start)
                        .append(' ')
                        .append(h.end)
                        .append(' ');
                s.append(h.result).append(' ').append(h.ignored).append('\n');
            }
        }
        return s.toString();
    }
}
