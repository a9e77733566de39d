package io.jobstream.broadcast;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;

/** The broadcaster contract for the single node: delivery is synchronous, to this node's hub only. */
class MemoryBroadcasterContractTest extends BroadcasterContract {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Hub hub = new Hub(registry);
    private final Frames member = member(hub);
    private final MemoryBroadcaster broadcaster = new MemoryBroadcaster(hub, registry);

    @Override
    protected Broadcaster broadcaster() {
        return broadcaster;
    }

    @Override
    protected List<Frames> members() {
        return List.of(member);
    }
}
