package io.jobstream.api;

import io.jobstream.event.EventTypes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * AWX's {@code children_summary} (reference §7.1), computed in one pass over a job's events in counter order.
 *
 * <p>Design note. AWX loads every event and walks parent links through a uuid map. This class keeps only the
 * open node at each level 0-3: a non-meta event's parent must be open at a shallower level (its own level was
 * just replaced and deeper ones cleared), so by induction a node's whole ancestor chain is open too, and a
 * linked {@link Node} per open level is all the walk needs. Meta events (verbose, debug, ...) get an assigned
 * parent that depends on the next non-meta event, so a run of them waits until that event arrives; all
 * events of one run get the same parent. Memory is the answer's size plus the pending run's counters.
 *
 * <p>Not thread-safe: one instance per request.
 */
final class ChildrenSummary implements EventReader.TreeVisitor {
    private static final Set<String> META =
            Set.of("debug", "verbose", "warning", "error", "system_warning", "deprecated");

    /** An event that was open at some level, with the chain to its ancestors. */
    private record Node(String uuid, int counter, int row, Node parent) {}

    private final Node[] open = new Node[4];
    private final TreeMap<Integer, int[]> tally = new TreeMap<>(); // counter -> {rowNumber, numChildren}
    private final TreeMap<Integer, String> metaParent = new TreeMap<>();
    private final List<Integer> pendingMeta = new ArrayList<>();
    private int row = -1;
    private boolean tree = true;
    // the previous non-meta event (initially the first event, whatever it is), as AWX tracks it
    private String prevEvent;
    private String prevParentUuid = "";
    private Node prevParent;

    @Override
    public boolean visit(int counter, String uuid, String parentUuid, String event) {
        row++;
        boolean meta = META.contains(event);
        if (!meta) {
            if (!pendingMeta.isEmpty()) settleMeta(event, parentUuid, find(parentUuid));
            prevEvent = event;
            prevParentUuid = parentUuid;
            prevParent = null;
        } else if (prevEvent == null) {
            prevEvent = event;
            prevParentUuid = parentUuid;
        }
        if (uuid.isEmpty()) {
            if (!meta) prevParent = find(parentUuid);
            return true;
        }
        if (!meta) {
            int level = Math.min(3, Math.max(0, EventTypes.level(event)));
            // as in AWX, this event takes its level (closing deeper ones) before its parent is looked up, so a
            // parent at the same or a deeper level is not found; a self-parent is not found either (AWX would loop)
            for (int l = level; l < open.length; l++) open[l] = null;
            Node parent = find(parentUuid);
            open[level] = new Node(uuid, counter, row, parent);
            prevParent = parent;
            if (!parentUuid.isEmpty() && parent == null) return notATree();
            credit(parent, 1);
            return true;
        }
        if (!parentUuid.isEmpty() && find(parentUuid) == null) return notATree();
        pendingMeta.add(counter);
        return true;
    }

    /**
     * A run of meta events gets the parent of the next non-meta event when that one is deeper than the previous
     * non-meta event, else the previous one's parent.
     */
    private void settleMeta(String nextEvent, String nextParentUuid, Node nextParent) {
        int before = EventTypes.level(prevEvent);
        int after = nextEvent == null ? 0 : EventTypes.level(nextEvent);
        boolean useNext = after > 0 && after > before;
        String uuid = useNext ? nextParentUuid : prevParentUuid;
        Node parent = useNext ? nextParent : prevParent;
        if (!uuid.isEmpty()) {
            for (int c : pendingMeta) metaParent.put(c, uuid);
            credit(parent, pendingMeta.size());
        }
        pendingMeta.clear();
    }

    private void credit(Node parent, int children) {
        for (Node n = parent; n != null; n = n.parent()) {
            int[] t = tally.get(n.counter());
            if (t == null) tally.put(n.counter(), t = new int[] {n.row(), 0});
            t[1] += children;
        }
    }

    private Node find(String uuid) {
        if (uuid.isEmpty()) return null;
        for (Node n : open) if (n != null && n.uuid().equals(uuid)) return n;
        return null;
    }

    private boolean notATree() {
        tree = false;
        return false;
    }

    boolean isTree() {
        return tree;
    }

    /** counter -> {rowNumber, numChildren} for every event with at least one descendant; empty when not a tree. */
    Map<Integer, int[]> children() {
        if (!tree) return Map.of();
        if (!pendingMeta.isEmpty()) settleMeta(null, "", null); // a trailing run: AWX compares with the last event
        return tally;
    }

    Map<Integer, String> metaEventNestedUuid() {
        if (!tree) return Map.of();
        children();
        return metaParent;
    }
}
