package io.inferencefleet.ops.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The supervisor with fake children (sh, sleep): restart with backoff, the restart limit, graceful stop. */
class SupervisorTest {
    private static final RestartPolicy FAST = new RestartPolicy(Duration.ofMillis(50), Duration.ofMillis(400), 3,
            Duration.ofMinutes(1), Duration.ofSeconds(30));

    @TempDir
    Path temp;

    private final List<String> events = new CopyOnWriteArrayList<>();

    private Supervisor.Child child(String id, String script) {
        return new Supervisor.Child(id, List.of("sh", "-c", script), temp.resolve(id + ".log"));
    }

    @Test
    void restartsAChildThatDiesWithGrowingBackoffThenGivesUpAtTheLimit() throws Exception {
        Supervisor supervisor = new Supervisor(List.of(child("crashy", "echo started; exit 1")), FAST, events::add);
        supervisor.start();
        assertTrue(supervisor.awaitTermination(Duration.ofSeconds(10)), "gave up: " + events);

        Supervisor.SlotStatus status = supervisor.status().get(0);
        assertEquals(Supervisor.State.GAVE_UP, status.state());
        assertEquals(3, status.restarts());
        assertEquals(1, status.lastExitCode());
        assertEquals(4, count("event=worker_started id=crashy"), events.toString());
        assertEquals(4, count("event=worker_exited id=crashy") - count("exit_code=-1"), events.toString());
        assertTrue(events.stream().filter(e -> e.startsWith("event=worker_exited")).allMatch(e -> e.contains("exit_code=1")));
        List<String> backoffs = events.stream().filter(e -> e.startsWith("event=worker_restarting"))
                .map(e -> e.replaceAll(".*backoff_ms=(\\d+).*", "$1")).toList();
        assertEquals(List.of("50", "100", "200"), backoffs, "doubling backoff: " + events);
        assertTrue(events.get(events.size() - 1).matches("event=worker_gave_up id=crashy exit_code=1 reason=restart_limit.*"),
                events.toString());
        assertEquals(4, java.nio.file.Files.readAllLines(temp.resolve("crashy.log")).stream()
                .filter("started"::equals).count(), "every run's output appended to the log");
        supervisor.stop(Duration.ofSeconds(1));  // harmless after giving up
    }

    @Test
    void aConfigurationErrorIsNotRestarted() throws Exception {
        Supervisor supervisor = new Supervisor(List.of(child("badconfig", "exit 2")), FAST, events::add);
        supervisor.start();
        assertTrue(supervisor.awaitTermination(Duration.ofSeconds(5)));
        assertEquals(Supervisor.State.GAVE_UP, supervisor.status().get(0).state());
        assertEquals(0, count("event=worker_restarting"), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.contains("reason=config_error")), events.toString());
    }

    @Test
    void restartsAKilledChildAndStopsEveryChildGracefully() throws Exception {
        Supervisor supervisor = new Supervisor(List.of(child("a", "exec sleep 60"), child("b", "exec sleep 60")),
                FAST, events::add);
        supervisor.start();
        await(() -> supervisor.status().stream().allMatch(s -> s.pid() > 0), "both running");
        long firstPid = supervisor.status().get(0).pid();
        ProcessHandle.of(firstPid).orElseThrow().destroyForcibly();  // SIGKILL from outside

        await(() -> supervisor.status().get(0).pid() > 0 && supervisor.status().get(0).pid() != firstPid, "restarted");
        assertEquals(1, supervisor.status().get(0).restarts());
        assertTrue(events.contains("event=worker_restarting id=a exit_code=137 backoff_ms=50 restart=1"), events.toString());
        long bPid = supervisor.status().get(1).pid();
        long aPid = supervisor.status().get(0).pid();

        long start = System.nanoTime();
        supervisor.stop(Duration.ofSeconds(10));
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos(), "sleep exits on SIGTERM at once");
        assertFalse(ProcessHandle.of(aPid).map(ProcessHandle::isAlive).orElse(false));
        assertFalse(ProcessHandle.of(bPid).map(ProcessHandle::isAlive).orElse(false));
        assertTrue(supervisor.status().stream().allMatch(s -> s.state() == Supervisor.State.STOPPED), supervisor.status().toString());
        assertEquals(143, supervisor.status().get(1).lastExitCode(), "ended by SIGTERM");
        assertEquals(0, count("event=worker_killed"), events.toString());
        assertEquals(1, count("event=worker_restarting"), "no restart after stop: " + events);
    }

    @Test
    void killsAChildThatIgnoresSigtermAfterTheTimeout() throws Exception {
        Supervisor supervisor = new Supervisor(List.of(child("stubborn", "trap '' TERM; exec sleep 60")), FAST, events::add);
        supervisor.start();
        await(() -> supervisor.status().get(0).pid() > 0, "running");
        Thread.sleep(200);  // let sh install the trap before it execs sleep

        long start = System.nanoTime();
        supervisor.stop(Duration.ofMillis(500));
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(tookMs >= 450 && tookMs < 5000, "waited for the timeout, then SIGKILL: " + tookMs + " ms");
        assertEquals(137, supervisor.status().get(0).lastExitCode());
        assertEquals(1, count("event=worker_killed"), events.toString());
        assertNotEquals(Supervisor.State.GAVE_UP, supervisor.status().get(0).state());
    }

    @Test
    void backoffDoublesUpToItsMaximum() {
        RestartPolicy policy = RestartPolicy.defaults();
        assertEquals(Duration.ofSeconds(1), policy.backoff(1));
        assertEquals(Duration.ofSeconds(8), policy.backoff(4));
        assertEquals(Duration.ofSeconds(30), policy.backoff(10));
    }

    private long count(String prefix) {
        return events.stream().filter(e -> e.startsWith(prefix) || e.contains(prefix)).count();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for: " + what);
            Thread.sleep(20);
        }
    }

    @Test
    void aWorkerThatKafkaRefusedIsGivenUpAtOnceNotRestartedInALoop() throws Exception {
        Supervisor supervisor = new Supervisor(List.of(child("refused", "exit " + Supervisor.EXIT_KAFKA_REFUSED)), FAST,
                events::add);
        supervisor.start();
        assertTrue(supervisor.awaitTermination(Duration.ofSeconds(10)), "gave up: " + events);
        Supervisor.SlotStatus status = supervisor.status().get(0);
        assertEquals(Supervisor.State.GAVE_UP, status.state());
        assertEquals(0, status.restarts());
        assertTrue(events.stream().anyMatch(e -> e.contains("kafka_refused")), events.toString());
    }

    @Test
    void aFencedWorkerIsGivenUpAtOnceSoThatItDoesNotFenceItsSuccessorInALoop() throws Exception {
        Supervisor supervisor = new Supervisor(List.of(child("fenced", "exit " + Supervisor.EXIT_FENCED)), FAST,
                events::add);
        supervisor.start();
        assertTrue(supervisor.awaitTermination(Duration.ofSeconds(10)), "gave up: " + events);
        Supervisor.SlotStatus status = supervisor.status().get(0);
        assertEquals(Supervisor.State.GAVE_UP, status.state());
        assertEquals(0, status.restarts());
        assertTrue(events.stream().anyMatch(e -> e.contains("reason=fenced")), events.toString());
    }
}
