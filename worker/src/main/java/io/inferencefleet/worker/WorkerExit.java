package io.inferencefleet.worker;

/**
 * The worker process's exit codes, defined once for the worker and its supervisors ({@code fleet
 * up}, systemd, Kubernetes): a supervisor restarts after {@link #FAILED} and gives up after
 * {@link #CONFIG_ERROR}, {@link #KAFKA_REFUSED} and {@link #FENCED}, which a restart cannot fix. After SIGTERM the JVM
 * exits with 143 once the shutdown hook has drained and committed.
 */
public final class WorkerExit {
    /** The worker stopped on its own: an agent thread died, or results could not be written. Restart it. */
    public static final int FAILED = 1;
    /** A bad configuration: the message names the key and value. Do not restart. */
    public static final int CONFIG_ERROR = 2;
    /** Kafka refused the worker for good (authentication, authorization, fenced). Do not restart in a loop. */
    public static final int KAFKA_REFUSED = 3;
    /**
     * {@code delivery.guarantee=exactly-once}: the worker's transactional producer was fenced, by another
     * instance with the same {@code worker.id} or by the coordinator after it froze past
     * {@code transaction.timeout.ms} (a zombie whose partitions moved on). None of its open transaction
     * is visible to read_committed readers. Do not restart in a loop: a restart under the same id fences
     * the other instance in turn.
     */
    public static final int FENCED = 4;

    private WorkerExit() {}
}
