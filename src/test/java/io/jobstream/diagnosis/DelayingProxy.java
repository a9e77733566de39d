package io.jobstream.diagnosis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A TCP proxy that passes every byte on after a fixed delay, in order, both ways: a slow network link for one node's
 * Redis connections. Threads: one acceptor, two pumps per connection, one delayed writer per direction.
 */
final class DelayingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int targetPort;
    private final Duration delay;
    private final List<AutoCloseable> open = new ArrayList<>();
    private volatile boolean closed;

    DelayingProxy(int targetPort, Duration delay) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.targetPort = targetPort;
        this.delay = delay;
        Thread acceptor = new Thread(this::accept, "delaying-proxy");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                Socket target = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                client.setTcpNoDelay(true);
                target.setTcpNoDelay(true);
                synchronized (open) {
                    open.add(client);
                    open.add(target);
                }
                pump(client, target);
                pump(target, client);
            } catch (IOException e) {
                if (!closed) continue;
                return;
            }
        }
    }

    /** Reads from one side and writes each chunk to the other {@code delay} later (one writer thread: in order). */
    private void pump(Socket from, Socket to) throws IOException {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "delaying-proxy-writer");
            t.setDaemon(true);
            return t;
        });
        synchronized (open) {
            open.add(writer::shutdownNow);
        }
        Thread reader = new Thread(
                () -> {
                    byte[] buffer = new byte[65536];
                    try {
                        int n;
                        while ((n = in.read(buffer)) >= 0) {
                            byte[] chunk = Arrays.copyOf(buffer, n);
                            writer.schedule(
                                    () -> {
                                        try {
                                            out.write(chunk);
                                            out.flush();
                                        } catch (IOException e) {
                                            closeQuietly(from, to);
                                        }
                                    },
                                    delay.toMillis(),
                                    TimeUnit.MILLISECONDS);
                        }
                    } catch (IOException e) {
                        // the connection went: the other side follows
                    }
                    writer.schedule(() -> closeQuietly(from, to), delay.toMillis(), TimeUnit.MILLISECONDS);
                },
                "delaying-proxy-reader");
        reader.setDaemon(true);
        reader.start();
    }

    private static void closeQuietly(Socket a, Socket b) {
        try {
            a.close();
            b.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() throws Exception {
        closed = true;
        server.close();
        synchronized (open) {
            for (AutoCloseable c : open) c.close();
        }
    }
}
