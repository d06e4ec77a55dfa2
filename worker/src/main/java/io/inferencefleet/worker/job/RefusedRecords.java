package io.inferencefleet.worker.job;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.TopicPartition;

/**
 * Exactly-once: the records the broker refused as too large (its {@code max.message.bytes} below the
 * producer's {@code max.request.size}), by input record and output topic. Such a refusal fails the
 * whole transaction, which is aborted and processed again; without this memory the record would be
 * refused again on every try. The intake notes a refusal; the answer path, when the record is answered
 * again, takes the note and sends the answer down its per-record path ({@code result_too_large}, a
 * truncated dead-letter copy) instead. Thread-safe.
 */
public final class RefusedRecords {
    private final Map<String, Boolean> refused = new ConcurrentHashMap<>();
    /** Every refusal ever noted: a second one for the same record means its small replacement was refused too. */
    private final Set<String> seen = ConcurrentHashMap.newKeySet();

    /**
     * The broker refused the record written to {@code topic} for the input record at {@code partition@offset}.
     *
     * @return false when it had refused it before: even the replacement is too large (a misconfigured
     *     topic), which, as with at-least-once, stops the worker instead of retrying for ever
     */
    public boolean refused(TopicPartition partition, long offset, String topic) {
        String key = key(partition, offset, topic);
        refused.put(key, Boolean.TRUE);
        return seen.add(key);
    }

    /** True once for a noted refusal, which it forgets (the replacement gets its own try). */
    public boolean take(TopicPartition partition, long offset, String topic) {
        return refused.remove(key(partition, offset, topic)) != null;
    }

    /** Refusals noted and not yet taken. */
    public int size() {
        return refused.size();
    }

    private static String key(TopicPartition partition, long offset, String topic) {
        return partition + "@" + offset + ">" + topic;
    }
}
