package io.inferencefleet.worker;

/**
 * The worker process's exit codes, defined once for the worker and its supervisors ({@code fleet
 * up}, systemd, Kubernetes): a supervisor restarts after {@link #FAILED} and gives up after
 * {@link #CONFIG_ERROR} and {@link #KAFKA_REFUSED}, which a restart cannot fix. After SIGTERM the JVM
 * exits with 143 once the shutdown hook has drained and committed.
 */
public final class WorkerExit {
    /** The worker stopped on its own: an agent thread died, or results could not be written. Restart it. */
    public static final int FAILED = 1;
    /** A bad configuration: the message names the key and value. Do not restart. */
    public static final int CONFIG_ERROR = 2;
    /** Kafka refused the worker for good (authentication, authorization, fenced). Do not restart in a loop. */
    public static final int KAFKA_REFUSED = 3;

    private WorkerExit() {}
}
