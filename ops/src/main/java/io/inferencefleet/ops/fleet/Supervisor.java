package io.inferencefleet.ops.fleet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a set of child processes running: each {@link Child} gets a slot and a thread ("supervise-ID")
 * that starts it, waits for it, and restarts it after a death according to the {@link RestartPolicy},
 * until {@link #stop} or until the slot is given up (restart limit reached, or exit code
 * {@value #EXIT_CONFIG_ERROR}, {@value #EXIT_KAFKA_REFUSED} or {@value #EXIT_FENCED}, which a restart cannot fix). Output of each child
 * is appended to its log file. Every event is logged as one {@code key=value} line and handed to the
 * listener, which is also how callers learn about changes (e.g. to rewrite a state file).
 *
 * <pre>{@code
 * Supervisor supervisor = new Supervisor(children, RestartPolicy.defaults(), event -> writeState());
 * supervisor.start();
 * ... supervisor.awaitGivenUp() or, on SIGTERM:
 * supervisor.stop(Duration.ofSeconds(35));   // SIGTERM to all, SIGKILL what is left after the timeout
 * }</pre>
 */
public final class Supervisor {
    /** Exit code with which a child says its configuration is invalid (WorkerMain's contract). */
    public static final int EXIT_CONFIG_ERROR = io.inferencefleet.worker.WorkerExit.CONFIG_ERROR;
    /** Kafka refused the worker for good (authentication, authorization): a restart cannot fix it either. */
    public static final int EXIT_KAFKA_REFUSED = io.inferencefleet.worker.WorkerExit.KAFKA_REFUSED;
    /** Exactly-once: the worker was fenced (another instance of its id, or a zombie): a restart would fence back. */
    public static final int EXIT_FENCED = io.inferencefleet.worker.WorkerExit.FENCED;
    /**
     * Time a worker is given after its drain ({@code shutdown.timeout.ms}) to close its Kafka clients and exit
     * before SIGKILL: fleet up's stop timeout is the sum, and so is the systemd unit's TimeoutStopSec.
     */
    public static final java.time.Duration EXIT_AFTER_DRAIN = java.time.Duration.ofSeconds(5);

    private static final Logger LOG = LoggerFactory.getLogger(Supervisor.class);

    /** A child to keep running: a stable id, its command line, where its output goes. */
    public record Child(String id, List<String> command, Path logFile) {
        public Child {
            command = List.copyOf(command);
        }
    }

    public enum State { STARTING, RUNNING, BACKOFF, GAVE_UP, STOPPED }

    /** A snapshot of one slot; {@code pid} is -1 while no process runs. */
    public record SlotStatus(String id, State state, long pid, Instant startedAt, int restarts, Integer lastExitCode) {}

    private final List<Slot> slots = new ArrayList<>();
    private final RestartPolicy policy;
    private final Consumer<String> listener;
    private final CountDownLatch stopping = new CountDownLatch(1);

    public Supervisor(List<Child> children, RestartPolicy policy, Consumer<String> listener) {
        this.policy = Objects.requireNonNull(policy);
        this.listener = Objects.requireNonNull(listener);
        children.forEach(child -> slots.add(new Slot(child)));
    }

    /** Starts every child (each slot on its own thread); returns at once. */
    public void start() {
        for (Slot slot : slots) {
            Thread thread = new Thread(slot::supervise, "supervise-" + slot.child.id());
            slot.thread = thread;
            thread.start();
        }
    }

    public List<SlotStatus> status() {
        return slots.stream().map(Slot::status).toList();
    }

    /** Waits until every slot is given up or stopped; true if so within the timeout. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Slot slot : slots) {
            long left = deadline - System.nanoTime();
            if (slot.thread != null) {
                slot.thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                if (slot.thread.isAlive()) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Stops every child: SIGTERM, then SIGKILL for those still running after {@code timeout}; no
     * restarts from then on. Returns when every child has exited. Idempotent.
     */
    public void stop(Duration timeout) throws InterruptedException {
        stopping.countDown();
        List<Process> running = new ArrayList<>();
        for (Slot slot : slots) {
            Process process;
            synchronized (slot) {  // no spawn can follow: spawn() checks stopping under this lock
                process = slot.process;
            }
            if (process != null && process.isAlive()) {
                event("event=worker_stopping id=" + slot.child.id() + " pid=" + process.pid());
                process.destroy();  // SIGTERM: a worker drains, commits and exits 143
                running.add(process);
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Process process : running) {
            long left = deadline - System.nanoTime();
            if (!process.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS)) {
                event("event=worker_killed pid=" + process.pid() + " reason=stop_timeout timeout_ms=" + timeout.toMillis());
                process.destroyForcibly();
                process.waitFor();
            }
        }
        for (Slot slot : slots) {
            if (slot.thread != null) {
                slot.thread.join();
            }
        }
    }

    private boolean isStopping() {
        return stopping.getCount() == 0;
    }

    private void event(String line) {
        LOG.info(line);
        listener.accept(line);
    }

    private final class Slot {
        final Child child;
        final Deque<Long> restartTimesNs = new ArrayDeque<>();
        Thread thread;
        Process process;
        State state = State.STARTING;
        Instant startedAt;
        int restarts;
        Integer lastExitCode;

        Slot(Child child) {
            this.child = child;
        }

        synchronized SlotStatus status() {
            long pid = process != null && process.isAlive() ? process.pid() : -1;
            return new SlotStatus(child.id(), state, pid, startedAt, restarts, lastExitCode);
        }

        void supervise() {
            int quickDeaths = 0;
            while (true) {
                Process started = spawn();
                long startNs = System.nanoTime();
                int code;
                if (started == null) {
                    if (isStopping()) {
                        break;
                    }
                    code = -1;  // could not even start (spawn_failed logged): counts as a quick death
                } else {
                    code = waitFor(started);
                }
                Duration uptime = Duration.ofNanos(System.nanoTime() - startNs);
                synchronized (this) {
                    lastExitCode = code;
                    process = null;
                    if (isStopping()) {
                        state = State.STOPPED;
                        break;
                    }
                }
                event("event=worker_exited id=" + child.id() + " pid=" + (started == null ? -1 : started.pid())
                        + " exit_code=" + code + " uptime_ms=" + uptime.toMillis());
                if (code == EXIT_CONFIG_ERROR || code == EXIT_KAFKA_REFUSED || code == EXIT_FENCED) {
                    giveUp(code == EXIT_CONFIG_ERROR ? "config_error" : code == EXIT_FENCED ? "fenced" : "kafka_refused",
                            code);
                    return;
                }
                long now = System.nanoTime();
                while (!restartTimesNs.isEmpty() && now - restartTimesNs.peekFirst() > policy.window().toNanos()) {
                    restartTimesNs.removeFirst();
                }
                if (restartTimesNs.size() >= policy.maxRestarts()) {
                    giveUp("restart_limit restarts_in_window=" + restartTimesNs.size() + " window_ms="
                            + policy.window().toMillis(), code);
                    return;
                }
                quickDeaths = uptime.compareTo(policy.stableAfter()) >= 0 ? 1 : quickDeaths + 1;
                Duration backoff = policy.backoff(quickDeaths);
                synchronized (this) {
                    state = State.BACKOFF;
                }
                event("event=worker_restarting id=" + child.id() + " exit_code=" + code + " backoff_ms=" + backoff.toMillis()
                        + " restart=" + (restarts + 1));
                try {
                    if (stopping.await(backoff.toMillis(), TimeUnit.MILLISECONDS)) {
                        break;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                restartTimesNs.addLast(System.nanoTime());
                synchronized (this) {
                    restarts++;
                }
            }
            synchronized (this) {
                state = State.STOPPED;
            }
            event("event=worker_stopped id=" + child.id() + " exit_code=" + lastExitCode);
        }

        private void giveUp(String reason, int code) {
            synchronized (this) {
                state = State.GAVE_UP;
            }
            event("event=worker_gave_up id=" + child.id() + " exit_code=" + code + " reason=" + reason
                    + " log=" + child.logFile());
        }

        /** Starts the child unless stopping; null when stopping or when the start failed. */
        private Process spawn() {
            String failure;
            synchronized (this) {
                if (isStopping()) {
                    return null;
                }
                try {
                    Files.createDirectories(child.logFile().toAbsolutePath().getParent());
                    process = new ProcessBuilder(child.command()).redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.appendTo(child.logFile().toFile()))
                            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                            .start();
                    state = State.RUNNING;
                    startedAt = Instant.now();
                    failure = null;
                } catch (IOException e) {
                    process = null;
                    state = State.BACKOFF;
                    failure = e.getMessage();
                }
            }
            if (failure != null) {  // events outside the lock: listeners read status()
                event("event=spawn_failed id=" + child.id() + " error=\"" + failure + "\"");
                return null;
            }
            event("event=worker_started id=" + child.id() + " pid=" + process.pid() + " restarts=" + restarts
                    + " log=" + child.logFile());
            return process;
        }

        private int waitFor(Process started) {
            while (true) {
                try {
                    return started.waitFor();
                } catch (InterruptedException e) {
                    // Only stop() ends supervision; it kills the process, so this wait ends too.
                }
            }
        }
    }
}
