package io.inferencefleet.worker.intake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.worker.job.Job;
import io.inferencefleet.worker.job.RefusedRecords;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * The exactly-once bookkeeping on Kafka's MockProducer, driven as the intake drives it: results
 * written as soon as they are answered, offsets and their metadata that say exactly what was written,
 * abort and rewind, fencing, and a commit of unknown outcome never aborted.
 */
class TransactionsTest {
    private static final TopicPartition TP = new TopicPartition("images", 0);
    private static final ConsumerGroupMetadata GROUP = new ConsumerGroupMetadata("g");

    private final MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
            new ByteArraySerializer());
    private final WorkerMetrics metrics = new WorkerMetrics();
    private final Transactions tx = new Transactions(producer, 100, 3, metrics);
    private final OffsetTracker tracker = new OffsetTracker();

    TransactionsTest() {
        tx.init();
    }

    private Job accept(long offset) {
        tracker.accepted(TP, offset);
        tx.accepted(TP, offset);
        Job job = new Job(TP, offset, -1L, org.apache.kafka.common.record.TimestampType.NO_TIMESTAMP_TYPE, null, new byte[0], new RecordHeaders(), null, System.nanoTime());
        job.stage(new ProducerRecord<>("predictions", ("r" + offset).getBytes(StandardCharsets.UTF_8)));
        return job;
    }

    private void answer(Job job) {
        assertTrue(tracker.acknowledged(job.partition(), job.offset()));
        tx.hold(job);
        tx.release(job.partition(), tracker.committable(job.partition()));
    }

    /** Committed, then in the open transaction (MockProducer keeps them apart). */
    private List<String> written() {
        return java.util.stream.Stream.concat(producer.history().stream(), producer.uncommittedRecords().stream())
                .map(r -> new String(r.value(), StandardCharsets.UTF_8)).toList();
    }

    @Test
    void answersAreWrittenAtOnceAndTheCommitSaysWhichRecordsAboveTheFirstUnansweredOneAreAnswered() {
        Job j10 = accept(10);
        Job j11 = accept(11);
        Job j12 = accept(12);
        answer(j12);
        answer(j11);
        assertEquals(List.of("r12", "r11"), written(), "not held behind 10");
        assertEquals(0, tx.held());
        assertEquals(Transactions.Outcome.COMMITTED, tx.commit(tracker.takeCommittable(), GROUP));
        OffsetAndMetadata first = producer.consumerGroupOffsetsHistory().get(0).get("g").get(TP);
        assertEquals(10, first.offset(), "10 is unanswered: reading starts there again");
        assertEquals(Set.of(11L, 12L), AnsweredAhead.decode(10, first.metadata()), "and skips 11 and 12");
        answer(j10);
        assertEquals(List.of("r12", "r11", "r10"), written());
        assertEquals(Transactions.Outcome.COMMITTED, tx.commit(tracker.takeCommittable(), GROUP));
        assertEquals(Map.of("g", Map.of(TP, new OffsetAndMetadata(13, ""))), producer.consumerGroupOffsetsHistory().get(1));
        assertEquals(13L, tx.restartOffset(TP));
        assertEquals(2.0, metrics.transactions("committed"));
    }

    @Test
    void anAnswerFartherThanTheSpanAboveTheFirstUnansweredRecordIsHeldUntilItMovesUp() {
        Job first = accept(0);
        Job far = null;
        for (long offset = 1; offset <= AnsweredAhead.MAX_SPAN; offset++) {
            Job job = accept(offset);
            if (offset == AnsweredAhead.MAX_SPAN) {
                far = job;
            }
        }
        answer(far);
        assertEquals(1, tx.held(), "4096 above 0: its commit could not describe it");
        assertEquals(List.of(), written());
        answer(first);
        assertEquals(0, tx.held());
        assertEquals(List.of("r0", "r" + AnsweredAhead.MAX_SPAN), written());
        assertEquals(Transactions.Outcome.COMMITTED, tx.commit(tracker.takeCommittable(), GROUP));
        OffsetAndMetadata committed = producer.consumerGroupOffsetsHistory().get(0).get("g").get(TP);
        assertEquals(1, committed.offset());
        assertEquals(Set.of((long) AnsweredAhead.MAX_SPAN), AnsweredAhead.decode(1, committed.metadata()));
    }

    @Test
    void aPartitionsLastCommitSaysWhichRecordsToSkip() {
        tx.assigned(TP, 20, Set.of(22L, 23L));
        assertTrue(tx.answeredBefore(TP, 22));
        assertTrue(tx.answeredBefore(TP, 23));
        assertFalse(tx.answeredBefore(TP, 20));
        assertFalse(tx.answeredBefore(TP, 21));
        assertEquals(20L, tx.restartOffset(TP));
        // 21 answered: the commit carries 22 and 23 on, still above the first unanswered record (20).
        accept(20);
        answer(accept(21));
        assertEquals(Transactions.Outcome.COMMITTED, tx.commit(tracker.takeCommittable(), GROUP));
        OffsetAndMetadata committed = producer.consumerGroupOffsetsHistory().get(0).get("g").get(TP);
        assertEquals(20, committed.offset());
        assertEquals(Set.of(21L, 22L, 23L), AnsweredAhead.decode(20, committed.metadata()));
    }

    @Test
    void aCommitWithNothingWrittenSendsNothing() {
        tx.assigned(TP, 0, Set.of(0L));
        tracker.accepted(TP, 0);
        tx.accepted(TP, 0);
        assertTrue(tx.answeredBefore(TP, 0));
        tracker.acknowledged(TP, 0);  // skipped, as the intake does
        tx.release(TP, tracker.committable(TP));
        assertEquals(Transactions.Outcome.COMMITTED, tx.commit(tracker.takeCommittable(), GROUP),
                "the last commit (0, skip 0) still says it");
        assertEquals(List.of(), producer.consumerGroupOffsetsHistory());
    }

    @Test
    void aTransactionIsDueAfterTheIntervalOnly() throws Exception {
        answer(accept(0));
        assertFalse(tx.due(System.nanoTime()), "one result, just begun");
        Thread.sleep(120);
        assertTrue(tx.due(System.nanoTime()), "after transaction.interval.ms");
    }

    @Test
    void theIntakesPollEndsWhenTheOpenTransactionIsDue() {
        long max = 10_000_000;
        assertEquals(max, tx.untilDue(System.nanoTime(), max), "nothing open: the longest poll");
        answer(accept(0));
        long now = System.nanoTime();
        long until = tx.untilDue(now, 1_000_000_000L);
        assertTrue(until > 90_000_000 && until <= 100_000_000, "due 100 ms after it began: " + until);
        assertEquals(max, tx.untilDue(now, max));
        assertEquals(0, tx.untilDue(now + 150_000_000, max), "overdue");
        answer(accept(1));
        answer(accept(2));
        assertEquals(0, tx.untilDue(now, max), "full (transaction.max.results = 3): due at once");
    }

    @Test
    void aFailedCommitAbortsAndNamesThePartitionsToReadAgainFromTheirLastCommittedOffset() {
        answer(accept(5));
        assertEquals(Transactions.Outcome.COMMITTED, tx.commit(tracker.takeCommittable(), GROUP));
        answer(accept(6));
        answer(accept(7));
        producer.commitTransactionException = new KafkaException("broker said no");
        assertEquals(Transactions.Outcome.ABORTED, tx.commit(tracker.takeCommittable(), GROUP));
        assertTrue(producer.transactionAborted());
        assertEquals(Set.of(TP), tx.aborted());
        assertEquals(6L, tx.restartOffset(TP), "the offset committed with 5's result");
        assertEquals(1.0, metrics.transactions("aborted"));
        assertFalse(tx.isOpen());
    }

    @Test
    void afterAnAbortOnlyWhatTheLastCommitSaysIsAnsweredIsSkipped() {
        accept(5);
        Job j6 = accept(6);
        answer(j6);
        assertEquals(Transactions.Outcome.COMMITTED, tx.commit(tracker.takeCommittable(), GROUP));  // 5 open, 6 answered
        answer(accept(7));
        producer.commitTransactionException = new KafkaException("broker said no");
        assertEquals(Transactions.Outcome.ABORTED, tx.commit(tracker.takeCommittable(), GROUP));
        assertEquals(5L, tx.restartOffset(TP));
        tx.forget(TP, true);  // rewound, as the intake does
        assertTrue(tx.answeredBefore(TP, 6), "committed ahead of 5");
        assertFalse(tx.answeredBefore(TP, 7), "its result was aborted: answered again");
        assertFalse(tx.answeredBefore(TP, 5));
    }

    @Test
    void fencingIsFatalAndNeverAborted() {
        answer(accept(0));
        producer.commitTransactionException = new InvalidTxnStateException("the coordinator aborted it (timed out)");
        assertEquals(Transactions.Outcome.FATAL, tx.commit(tracker.takeCommittable(), GROUP));
        assertTrue(Transactions.fenced(tx.failure()));
        assertFalse(producer.transactionAborted());
    }

    @Test
    void aCommitThatTimesOutIsRetriedNotAbortedBecauseItMayHaveCommitted() {
        answer(accept(0));
        producer.commitTransactionException = new TimeoutException("no answer from the coordinator");
        assertEquals(Transactions.Outcome.FATAL, tx.commit(tracker.takeCommittable(), GROUP));
        assertFalse(producer.transactionAborted(), "an abort could duplicate what may have committed");
        assertFalse(Transactions.fenced(tx.failure()), "exit 1: a restart resolves the transaction");
    }

    @Test
    void aRecordTheBrokerRefusesIsNotedForItsNextAnswerAndASecondRefusalIsFatalNotAnEndlessRetry() {
        MockProducer<byte[], byte[]> manual = new MockProducer<>(false, null, new ByteArraySerializer(),
                new ByteArraySerializer());
        RefusedRecords refused = new RefusedRecords();
        Transactions t = new Transactions(manual, 100, 3, metrics, refused);
        t.init();
        for (int attempt = 1; attempt <= 2; attempt++) {
            OffsetTracker fresh = new OffsetTracker();  // rewound: the record is read and answered again
            fresh.accepted(TP, 0);
            t.accepted(TP, 0);
            Job job = new Job(TP, 0, -1L, org.apache.kafka.common.record.TimestampType.NO_TIMESTAMP_TYPE, null, new byte[0], new RecordHeaders(), null, System.nanoTime());
            job.stage(new ProducerRecord<>("predictions", new byte[10]));
            fresh.acknowledged(TP, 0);
            t.hold(job);
            t.release(TP, fresh.committable(TP));
            manual.errorNext(new RecordTooLargeException("over the topic's max.message.bytes"));
            Transactions.Outcome outcome = t.commit(fresh.takeCommittable(), GROUP);
            if (attempt == 1) {
                assertEquals(Transactions.Outcome.ABORTED, outcome);
                assertTrue(refused.take(TP, 0, "predictions"), "noted for the next answer (StagingSink takes it)");
            } else {
                assertEquals(Transactions.Outcome.FATAL, outcome, "the replacement was refused too");
                assertTrue(manual.transactionAborted());
            }
        }
    }

    @Test
    void aForgottenPartitionsHeldAnswersAndSkipsAreDropped() {
        tx.assigned(TP, 0, Set.of(2L));
        accept(0);
        for (long offset = 1; offset < AnsweredAhead.MAX_SPAN; offset++) {
            accept(offset);
        }
        answer(accept(AnsweredAhead.MAX_SPAN));
        assertEquals(1, tx.held());
        tx.forget(TP, false);
        assertEquals(0, tx.held());
        assertEquals(null, tx.restartOffset(TP));
        assertFalse(tx.answeredBefore(TP, 2), "revoked: the next assignment reads the commit again");
        assertEquals(List.of(), written());
    }

    @Test
    void resultsAreCountedWhenTheirTransactionCommitsSoAnAbortedAnswerGivenAgainCountsOnce() {
        Job first = accept(0);
        first.stageOutcome(badRequest());
        answer(first);
        assertEquals(0.0, metrics.requests("error", "bad_request"), "staged, not yet a result");
        producer.commitTransactionException = new KafkaException("broker said no");
        assertEquals(Transactions.Outcome.ABORTED, tx.commit(tracker.takeCommittable(), GROUP));
        assertEquals(0.0, metrics.requests("error", "bad_request"), "aborted: it is answered again");
        tx.forget(TP, true);
        tracker.forget(TP);
        producer.commitTransactionException = null;
        Job again = accept(0);
        again.stageOutcome(badRequest());
        answer(again);
        assertEquals(Transactions.Outcome.COMMITTED, tx.commit(tracker.takeCommittable(), GROUP));
        assertEquals(1.0, metrics.requests("error", "bad_request"));
    }

    private static InferenceResult badRequest() {
        return new InferenceResult("r0", InferenceResult.Status.ERROR, null, null, null, "w", null,
                new InferenceResult.ErrorInfo("bad_request", "no"), null);
    }
}
