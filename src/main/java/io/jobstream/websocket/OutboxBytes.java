package io.jobstream.websocket;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of event messages this node holds for its websocket subscribers: queued in an outbox or handed to Jetty
 * and not yet written (live frames shared by a job's subscribers count for each connection, and for the user and the
 * node only when built for one subscriber: see {@link Account}; but each queued message's own entry counts everywhere,
 * see {@link Outbox.Out#ENTRY_BYTES}). Bounded per connection ({@code ws.outbox-max-bytes}), per user
 * ({@code ws.outbox-max-bytes-per-user}) and for the node ({@code ws.outbox-max-bytes-total}), because a message
 * count says nothing about memory: 10,000 messages of 2 MB are 20 GB.
 *
 * <p>A message is charged when it is queued and given back when Jetty reports it written (or the connection
 * closes). When a charge would pass a bound the message is not queued: the feed catches up from the store later,
 * as for a full outbox, so nothing is lost. So that every connection still progresses, a connection that holds
 * nothing may always take one message, unless its user already holds bytes on other connections (then it waits for
 * those: only that user's own connections slow down). The node's total can thus be passed by at most one message
 * per user. Thread-safe: many delivering threads charge, Jetty's completion threads give back; plain atomics, an
 * over-shoot by concurrent charges is at most one message per thread.
 */
final class OutboxBytes {
    private final long perConnection;
    private final long perUser;
    private final long perNode;
    private final AtomicLong node = new AtomicLong();
    /** Per user id; an entry goes when its user's last connection closes (see {@link #forget}). */
    private final Map<Long, AtomicLong> users = new ConcurrentHashMap<>();

    OutboxBytes(long perConnection, long perUser, long perNode) {
        this.perConnection = perConnection;
        this.perUser = perUser;
        this.perNode = perNode;
    }

    /** No bound (unit tests of other rules). */
    static OutboxBytes unbounded() {
        return new OutboxBytes(Long.MAX_VALUE / 4, Long.MAX_VALUE / 4, Long.MAX_VALUE / 4);
    }

    /** The account of one new connection of {@code userId}. */
    Account open(long userId) {
        return new Account(users.computeIfAbsent(userId, k -> new AtomicLong()));
    }

    /** Drops the user's entry once it holds nothing (its last connection closed). */
    void forget(long userId) {
        users.computeIfPresent(userId, (k, held) -> held.get() == 0 ? null : held);
    }

    /** Bytes held for every subscriber of this node (the {@code ws.outbox.bytes} gauge). */
    long held() {
        return node.get();
    }

    long perConnection() {
        return perConnection;
    }

    /**
     * One connection's share; its subscriber charges and gives back. A <em>shared</em> message (a live frame, one
     * object for every subscriber of its job) is charged to the connection only: charging it to the user and the node
     * once per subscriber would count one user's 100 tabs on a busy job 100 times and push them all into catch-up
     * for memory that exists once. A message built for this subscriber alone (read from the store: resume, gap,
     * catch-up) is charged at all three levels. Lock-free: the counters are the truth, and closing swaps them for
     * {@link #CLOSED}, so a charge or give-back racing the close is either counted in what the close gives back or
     * sees the mark and does nothing.
     */
    final class Account {
        private static final long CLOSED = Long.MIN_VALUE / 2;
        private final AtomicLong user;
        /** Every byte this connection holds (its own bound). */
        private final AtomicLong own = new AtomicLong();
        /** The part of {@link #own} also charged to the user and the node. */
        private final AtomicLong charged = new AtomicLong();
        /** The size of the last message refused (0 after one is taken): what {@link #blocked} must find room for. */
        private volatile long refused;

        private Account(AtomicLong user) {
            this.user = user;
        }

        /**
         * Charges {@code bytes} unless that passes a bound (rules in the class comment); false = not charged.
         *
         * @param shared a live frame shared with other subscribers: charged to this connection only
         */
        boolean take(long bytes, boolean shared) {
            return take(bytes, shared ? 0 : bytes);
        }

        /**
         * Charges {@code bytes} to this connection and {@code toAll} of them (at most all) also to the user and the
         * node, unless that passes a bound; false = not charged. A queued live frame is charged its frame to the
         * connection only, and its queue entry, which is this connection's alone, to all three.
         */
        boolean take(long bytes, long toAll) {
            long mine = own.get();
            if (mine < 0) return false; // closed
            if (!fits(mine, bytes, toAll)) {
                refused = bytes;
                return false;
            }
            if (own.addAndGet(bytes) < 0) return false; // closed meanwhile: the close gave back all it saw
            if (toAll > 0 && charged.addAndGet(toAll) >= 0) {
                user.addAndGet(toAll);
                node.addAndGet(toAll);
            }
            if (refused != 0) refused = 0;
            return true;
        }

        /** Gives back what {@link #take} charged, once the message is written; nothing after {@link #close}. */
        void give(long bytes, boolean shared) {
            give(bytes, shared ? 0 : bytes);
        }

        /** Gives back what {@link #take(long, long)} charged. */
        void give(long bytes, long toAll) {
            if (own.addAndGet(-bytes) < CLOSED / 2 || toAll == 0) return; // closed: already given back
            if (charged.addAndGet(-toAll) < CLOSED / 2) return;
            user.addAndGet(-toAll);
            node.addAndGet(-toAll);
        }

        /** Bytes this connection holds now. */
        long held() {
            return Math.max(0, own.get());
        }

        /**
         * A reader should not read now: past half its own bound (it waits until the drain frees half, as for the
         * message count), or the last message refused would still not fit, so nothing it reads could be queued
         * (reading, or handing over to the live frames kept aside, would fail, catch up and read again: a loop on
         * the reader threads). Readers build messages of their own, so the user's and the node's bounds apply.
         */
        boolean blocked() {
            long mine = held();
            long next = Math.max(1, refused);
            return mine > perConnection / 2 || !fits(mine, next, next);
        }

        /** The rules of the class comment: whether {@code bytes} more may be held now. */
        private boolean fits(long mine, long bytes, long toAll) {
            if (mine > 0 && mine + bytes > perConnection) return false;
            if (toAll == 0) return true;
            long users = user.get();
            if (users > 0 && users + toAll > perUser) return false;
            return mine == 0 || node.get() + toAll <= perNode;
        }

        /** What a reader may still fetch before passing any bound (at least 1: one row is always read). */
        long room() {
            long left = Math.min(perConnection - held(), Math.min(perUser - user.get(), perNode - node.get()));
            return Math.max(1, left);
        }

        /** True while this connection holds nothing and its user holds bytes elsewhere: it waits for those. */
        boolean starvedByOwnUser() {
            return own.get() == 0 && user.get() > 0;
        }

        /** The connection closed: gives back all it holds; later {@link #give}s are ignored. Idempotent. */
        void close() {
            own.getAndSet(CLOSED);
            long mine = charged.getAndSet(CLOSED);
            if (mine <= 0) return; // already closed (negative), or nothing charged beyond the connection
            user.addAndGet(-mine);
            node.addAndGet(-mine);
        }
    }
}
