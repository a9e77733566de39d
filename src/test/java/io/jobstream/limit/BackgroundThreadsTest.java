package io.jobstream.limit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Background threads run {@value BackgroundThreads#NICE} nice levels below the node, read back from /proc (real
 * renice on real threads); the threads that made them keep their own priority.
 */
class BackgroundThreadsTest {
    static String tid() throws Exception {
        return Files.readSymbolicLink(Path.of("/proc/thread-self"))
                .getFileName()
                .toString();
    }

    static int expected() throws Exception {
        return Math.min(19, BackgroundThreads.niceOf(tid()) + BackgroundThreads.NICE);
    }

    @Test
    void a_background_thread_runs_below_the_thread_that_made_it() throws Exception {
        int expected = expected();
        int own = BackgroundThreads.niceOf(tid());
        List<Object> seen = new CopyOnWriteArrayList<>();
        Thread t = BackgroundThreads.newThread(
                () -> {
                    try {
                        seen.add(BackgroundThreads.niceOf(tid()));
                        seen.add(Thread.currentThread().getName());
                    } catch (Exception e) {
                        seen.add(e);
                    }
                },
                "bg-test");
        assertThat(t.isDaemon()).isTrue();
        t.start();
        t.join(15_000);
        assertThat(seen).containsExactly(expected, "bg-test");
        assertThat(BackgroundThreads.niceOf(tid())).as("the caller's own nice").isEqualTo(own);
    }

    @Test
    void a_pools_threads_are_numbered_and_each_runs_below_the_node() throws Exception {
        int expected = expected();
        ExecutorService pool = Executors.newFixedThreadPool(2, BackgroundThreads.factory("bg-pool", true));
        try {
            List<String> seen = new CopyOnWriteArrayList<>();
            var a = pool.submit(() -> {
                Thread.sleep(200); // so that the second task gets the second thread
                seen.add(Thread.currentThread().getName() + " " + BackgroundThreads.niceOf(tid()));
                return null;
            });
            var b = pool.submit(() -> {
                seen.add(Thread.currentThread().getName() + " " + BackgroundThreads.niceOf(tid()));
                return null;
            });
            a.get(15, TimeUnit.SECONDS);
            b.get(15, TimeUnit.SECONDS);
            assertThat(seen).containsExactlyInAnyOrder("bg-pool-1 " + expected, "bg-pool-2 " + expected);
        } finally {
            pool.shutdownNow();
        }
    }
}
