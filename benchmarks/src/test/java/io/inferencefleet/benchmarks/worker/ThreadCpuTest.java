package io.inferencefleet.benchmarks.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The per-thread accounting: CPU lands on the thread that used it, under its full Java name. */
class ThreadCpuTest {
    private static final long BURN_NS = 300_000_000;

    @Test
    void aBusyThreadsCpuIsCountedUnderItsFullJavaNameAndRole() throws Exception {
        CountDownLatch burnt = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // Longer than comm's 15 characters: the role must come from the JVM's name, not from /proc.
        Thread burner = new Thread(() -> {
            burn(BURN_NS);
            burnt.countDown();
            await(release);
        }, "predictor-0-with-a-long-name");
        ThreadCpu.Snapshot a = ThreadCpu.snapshot();
        burner.start();
        burnt.await();
        ThreadCpu.Snapshot b = ThreadCpu.snapshot();
        release.countDown();
        burner.join();

        Map<String, ThreadCpu.RoleCpu> roles = ThreadCpu.byRole(a, b, new WorkerThroughputSuite.Roles(Set.of()));
        ThreadCpu.RoleCpu predictor = roles.get(WorkerThroughputSuite.Roles.PREDICTOR);
        assertEquals(1, predictor.threads(), roles.toString());
        assertTrue(predictor.execMs() >= BURN_NS / 1e6, predictor.toString());
        assertTrue(predictor.cpuMs() >= BURN_NS / 1e6 - 30, "utime + stime, 10 ms ticks: " + predictor);
        ThreadCpu.Task task = b.tasks().values().stream().filter(t -> "predictor-0-with-a-long-name".equals(t.javaName()))
                .findFirst().orElseThrow();
        assertEquals("predictor-0-wit", task.comm(), "Linux keeps 15 characters");
    }

    @Test
    void aThreadThatExitsInTheWindowIsCountedFromTheProcesssTotal() throws Exception {
        ThreadCpu.Snapshot a = ThreadCpu.snapshot();
        Thread burner = new Thread(() -> burn(BURN_NS), "decoder-gone");
        burner.start();
        burner.join();
        ThreadCpu.Snapshot b = ThreadCpu.snapshot();

        Map<String, ThreadCpu.RoleCpu> roles = ThreadCpu.byRole(a, b, new WorkerThroughputSuite.Roles(Set.of()));
        assertNull(roles.get(WorkerThroughputSuite.Roles.DECODER), "gone before the second snapshot");
        assertTrue(roles.get(ThreadCpu.EXITED).cpuMs() >= BURN_NS / 1e6 - 30, roles.toString());
    }

    @Test
    void threadsKnownByIdAreTheBrokersWhateverTheirNames() {
        ThreadCpu.Snapshot now = ThreadCpu.snapshot();
        ThreadCpu.Task main = now.tasks().values().stream().filter(t -> Thread.currentThread().getName().equals(t.javaName()))
                .findFirst().orElseThrow();
        assertEquals(WorkerThroughputSuite.Roles.BROKER, new WorkerThroughputSuite.Roles(Set.of(main.tid())).apply(main));
        ThreadCpu.Task gc = now.tasks().values().stream().filter(t -> t.name().startsWith("GC Thread")).findFirst().orElseThrow();
        assertEquals(WorkerThroughputSuite.Roles.GC, new WorkerThroughputSuite.Roles(Set.of()).apply(gc));
    }

    /** Spins until this thread has had {@code ns} of CPU (not wall time: the machine may be shared). */
    private static void burn(long ns) {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long end = mx.getCurrentThreadCpuTime() + ns;
        long x = 0;
        while (mx.getCurrentThreadCpuTime() < end) {
            x += x * 31 + 7;
        }
        if (x == 42) {
            System.out.println(x);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
