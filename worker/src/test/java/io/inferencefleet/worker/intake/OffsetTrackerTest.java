package io.inferencefleet.worker.intake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class OffsetTrackerTest {
    private final TopicPartition p0 = new TopicPartition("images", 0);
    private final TopicPartition p1 = new TopicPartition("images", 1);
    private final OffsetTracker tracker = new OffsetTracker();

    @Test
    void commitsOnlyUpToTheFirstUnacknowledgedRecord() {
        for (long o = 10; o < 15; o++) {
            tracker.accepted(p0, o);
        }
        assertTrue(tracker.acknowledged(p0, 11));
        assertTrue(tracker.acknowledged(p0, 12));
        assertEquals(Map.of(), tracker.takeCommittable(), "10 is still in flight");
        assertTrue(tracker.acknowledged(p0, 10));
        assertEquals(Map.of(p0, new OffsetAndMetadata(13)), tracker.takeCommittable());
        assertEquals(Map.of(), tracker.takeCommittable(), "nothing new");
        assertEquals(2, tracker.inFlight());
        tracker.acknowledged(p0, 14);
        tracker.acknowledged(p0, 13);
        assertEquals(Map.of(p0, new OffsetAndMetadata(15)), tracker.takeCommittable());
        assertEquals(0, tracker.inFlight());
    }

    @Test
    void partitionsAreIndependentAndGapsInOffsetsAreFine() {
        tracker.accepted(p0, 3);
        tracker.accepted(p1, 100);
        tracker.accepted(p1, 205);  // compacted or transactional topics skip offsets
        tracker.acknowledged(p1, 205);
        tracker.acknowledged(p1, 100);
        assertEquals(Map.of(p1, new OffsetAndMetadata(206)), tracker.takeCommittable());
        assertEquals(1, tracker.inFlight(p0));
    }

    @Test
    void duplicateOrUnknownAcknowledgementsAreIgnored() {
        tracker.accepted(p0, 1);
        assertTrue(tracker.acknowledged(p0, 1));
        assertFalse(tracker.acknowledged(p0, 1));
        assertFalse(tracker.acknowledged(p1, 1));
        assertEquals(0, tracker.inFlight());
    }

    @Test
    void forgettingARevokedPartitionDropsItsInFlightRecords() {
        tracker.accepted(p0, 1);
        tracker.accepted(p0, 2);
        tracker.accepted(p1, 1);
        tracker.acknowledged(p0, 2);
        tracker.forget(p0);
        assertEquals(1, tracker.inFlight());
        assertFalse(tracker.acknowledged(p0, 1), "late acknowledgement of a revoked partition");
    }

    @Test
    void offsetsMustArriveInOrder() {
        tracker.accepted(p0, 5);
        assertThrows(IllegalStateException.class, () -> tracker.accepted(p0, 5));
    }

    @Test
    void aFailedCommitIsTakenAgainUnlessALaterOneCoversIt() {
        // Regression: takeCommittable marked offsets committed before the async commit succeeded; a failed
        // commit was never retried when no later record of the partition arrived.
        OffsetTracker tracker = new OffsetTracker();
        TopicPartition tp = new TopicPartition("t", 0);
        tracker.accepted(tp, 0);
        tracker.acknowledged(tp, 0);
        var first = tracker.takeCommittable();
        assertEquals(1, first.get(tp).offset());
        assertTrue(tracker.takeCommittable().isEmpty());
        tracker.commitFailed(first);
        assertEquals(1, tracker.takeCommittable().get(tp).offset(), "retried");

        tracker.accepted(tp, 1);
        tracker.acknowledged(tp, 1);
        var second = tracker.takeCommittable();
        tracker.commitFailed(first);  // the older failure arrives after a newer commit was taken
        assertTrue(tracker.takeCommittable().isEmpty(), "the newer commit covers it");
        assertEquals(2, second.get(tp).offset());
    }
}
