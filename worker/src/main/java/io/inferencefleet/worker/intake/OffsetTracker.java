package io.inferencefleet.worker.intake;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Which offsets may be committed: per partition, up to (not including) the first record whose
 * result the broker has not yet acknowledged. Records are accepted in offset order and may be
 * acknowledged in any order. Used by the intake thread only (not thread-safe).
 *
 * <pre>{@code
 * tracker.accepted(tp, 10); tracker.accepted(tp, 11);
 * tracker.acknowledged(tp, 11);      // nothing committable yet: 10 is still in flight
 * tracker.acknowledged(tp, 10);
 * tracker.takeCommittable();         // {tp: 12}
 * }</pre>
 */
final class OffsetTracker {
    private static final class PartitionState {
        /** Accepted, in offset order (insertion order); O(1) membership, first and removal. */
        final LinkedHashSet<Long> pending = new LinkedHashSet<>();
        final Set<Long> acknowledged = new HashSet<>();
        long last = -1;
        long committable = -1;
        long committed = -1;
    }

    private final Map<TopicPartition, PartitionState> partitions = new HashMap<>();
    private int inFlight;

    void accepted(TopicPartition partition, long offset) {
        PartitionState state = partitions.computeIfAbsent(partition, p -> new PartitionState());
        if (!state.pending.isEmpty() && offset <= state.last) {
            throw new IllegalStateException("offset " + offset + " of " + partition + " accepted after " + state.last);
        }
        state.pending.add(offset);
        state.last = offset;
        inFlight++;
    }

    /** Returns false if the record is unknown (e.g. its partition was revoked meanwhile). */
    boolean acknowledged(TopicPartition partition, long offset) {
        PartitionState state = partitions.get(partition);
        if (state == null || !state.pending.contains(offset) || !state.acknowledged.add(offset)) {
            return false;
        }
        inFlight--;
        for (Iterator<Long> it = state.pending.iterator(); it.hasNext(); ) {
            Long first = it.next();
            if (!state.acknowledged.remove(first)) {
                break;
            }
            it.remove();
            state.committable = first + 1;
        }
        return true;
    }

    /**
     * A commit of {@code offsets} failed: take them again with the next {@link #takeCommittable()},
     * unless a later commit of the partition has been taken since (it covers them).
     */
    void commitFailed(Map<TopicPartition, OffsetAndMetadata> offsets) {
        offsets.forEach((partition, failed) -> {
            PartitionState state = partitions.get(partition);
            if (state != null && state.committed == failed.offset()) {
                state.committed = failed.offset() - 1;
            }
        });
    }

    /** Offsets that advanced since the last call, as Kafka expects them (next offset to read). */
    Map<TopicPartition, OffsetAndMetadata> takeCommittable() {
        Map<TopicPartition, OffsetAndMetadata> result = new HashMap<>();
        for (Map.Entry<TopicPartition, PartitionState> e : partitions.entrySet()) {
            PartitionState state = e.getValue();
            if (state.committable > state.committed) {
                result.put(e.getKey(), new OffsetAndMetadata(state.committable));
                state.committed = state.committable;
            }
        }
        return result;
    }

    /** The partition's committable offset (next offset to read after its answered prefix), or -1. */
    long committable(TopicPartition partition) {
        PartitionState state = partitions.get(partition);
        return state == null ? -1 : state.committable;
    }

    int inFlight() {
        return inFlight;
    }

    int inFlight(TopicPartition partition) {
        PartitionState state = partitions.get(partition);
        return state == null ? 0 : state.pending.size() - state.acknowledged.size();
    }

    /** Stops tracking a revoked partition; its unacknowledged records will be read again by its next owner. */
    void forget(TopicPartition partition) {
        PartitionState state = partitions.remove(partition);
        if (state != null) {
            inFlight -= state.pending.size() - state.acknowledged.size();
        }
    }
}
