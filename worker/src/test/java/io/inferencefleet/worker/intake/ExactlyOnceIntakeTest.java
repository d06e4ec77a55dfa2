package io.inferencefleet.worker.intake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.worker.job.Acknowledgements;
import io.inferencefleet.worker.job.RefusedRecords;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import io.inferencefleet.worker.publish.ResultFactory;
import io.inferencefleet.worker.publish.ResultPublisher;
import io.inferencefleet.worker.publish.StagingSink;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * The exactly-once intake on Kafka's MockConsumer and MockProducer (no broker): nothing is committed
 * with commitAsync, and a revocation commits the open transaction (results and offsets) before it
 * completes, long before {@code transaction.interval.ms}.
 */
class ExactlyOnceIntakeTest {
    @Test
    void aRevocationCommitsTheOpenTransactionBeforeItCompletes() throws Exception {
        TopicPartition tp = new TopicPartition("images", 0);
        MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
        MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
                new ByteArraySerializer());
        WorkerMetrics metrics = new WorkerMetrics();
        Intake intake = exactlyOnceIntake(consumer, producer, metrics);
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(tp));
            consumer.updateBeginningOffsets(Map.of(tp, 0L));
            consumer.seek(tp, 0);
            for (int i = 0; i < 3; i++) {  // bad requests: the intake answers them itself (no lanes needed)
                consumer.addRecord(new ConsumerRecord<>("images", 0, i, null, ("{bad " + i).getBytes(StandardCharsets.UTF_8)));
            }
        });
        AtomicLong commitsAtRevocation = new AtomicLong(-1);
        java.util.concurrent.atomic.AtomicReference<OffsetAndMetadata> consumerCommitted =
                new java.util.concurrent.atomic.AtomicReference<>(new OffsetAndMetadata(999));
        // Later polls: once all three are answered and written, take the partition away.
        Runnable revokeWhenWritten = new Runnable() {
            @Override
            public void run() {
                if (producer.uncommittedRecords().size() < 3) {
                    consumer.schedulePollTask(this);
                    return;
                }
                consumer.rebalance(List.of());  // runs onPartitionsRevoked on the intake thread, here
                consumerCommitted.set(consumer.committed(java.util.Set.of(tp)).get(tp));
                commitsAtRevocation.set(producer.commitCount());
            }
        };
        consumer.schedulePollTask(revokeWhenWritten);
        Thread thread = new Thread(intake, "intake-test");
        thread.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (commitsAtRevocation.get() < 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        intake.stop();
        thread.join(5_000);
        assertEquals(1, commitsAtRevocation.get(), "committed inside the revocation");
        assertEquals(List.of(Map.of("dummy.group.id", Map.of(tp, new OffsetAndMetadata(3)))),
                producer.consumerGroupOffsetsHistory().stream().filter(m -> !m.isEmpty()).toList());
        MessageCodec codec = new MessageCodec();
        assertEquals(3, producer.history().size());
        assertTrue(producer.history().stream().allMatch(r -> codec.decodeResult(r.value()).error().code().equals("bad_request")));
        assertEquals(null, consumerCommitted.get(), "nothing committed by the consumer itself (no commitAsync)");
    }

    @Test
    void recordsTheLastCommitSaysAreAnsweredAreSkippedNotAnsweredTwice() throws Exception {
        TopicPartition tp = new TopicPartition("images", 0);
        java.util.concurrent.atomic.AtomicInteger unsettled = new java.util.concurrent.atomic.AtomicInteger(2);
        MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest") {
            @Override
            public synchronized Map<TopicPartition, OffsetAndMetadata> committed(java.util.Set<TopicPartition> partitions) {
                if (unsettled.getAndDecrement() > 0) {
                    // A previous owner's transaction still holds the offsets: Kafka times the lookup out.
                    throw new org.apache.kafka.common.errors.TimeoutException("offsets not yet stable");
                }
                return super.committed(partitions);
            }
        };
        MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
                new ByteArraySerializer());
        WorkerMetrics metrics = new WorkerMetrics();
        Intake intake = exactlyOnceIntake(consumer, producer, metrics);
        // The previous owner's last commit: read from 1 on, 2 and 4 are answered already.
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(tp));
            consumer.commitSync(Map.of(tp, new OffsetAndMetadata(1, AnsweredAhead.encode(1, java.util.Set.of(2L, 4L)))));
            consumer.rebalance(List.of());
            consumer.rebalance(List.of(tp));  // assigned again: onPartitionsAssigned reads that commit
            consumer.updateBeginningOffsets(Map.of(tp, 0L));
            consumer.seek(tp, 1);
            for (int i = 1; i <= 5; i++) {
                consumer.addRecord(new ConsumerRecord<>("images", 0, i, null, ("{bad " + i).getBytes(StandardCharsets.UTF_8)));
            }
        });
        Thread thread = new Thread(intake, "intake-test");
        thread.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (metrics.answeredBefore() < 2 || producer.uncommittedRecords().size() + producer.history().size() < 3) {
            if (System.nanoTime() > deadline) {
                break;
            }
            Thread.sleep(10);
        }
        intake.stop();
        thread.join(5_000);
        MessageCodec codec = new MessageCodec();
        List<Long> answered = producer.history().stream().map(r -> codec.decodeResult(r.value()).source().offset()).sorted().toList();
        assertEquals(List.of(1L, 3L, 5L), answered, "2 and 4 had their answers");
        assertEquals(2.0, metrics.answeredBefore());
        assertTrue(unsettled.get() < 0, "the lookup timed out twice and was retried");
        assertEquals(new OffsetAndMetadata(6), producer.consumerGroupOffsetsHistory().stream().filter(m -> !m.isEmpty())
                .reduce((a, b) -> b).orElseThrow().get("dummy.group.id").get(tp), "everything answered: read from 6 on");
    }

    /**
     * An exactly-once intake without lanes (the test's records are bad requests, which the intake
     * answers itself), whose transactions are never due by themselves.
     */
    private static Intake exactlyOnceIntake(MockConsumer<byte[], byte[]> consumer, MockProducer<byte[], byte[]> producer,
                                            WorkerMetrics metrics) {
        Acknowledgements acks = new Acknowledgements();
        ResultPublisher publisher = new ResultPublisher(new StagingSink(1_048_576, new RefusedRecords()), "predictions",
                null, new ResultPublisher.Source("images", "g"), new ResultFactory(new InferenceResult.ModelRef("m", "v"), "w",
                "images", List.of(), 5), acks, metrics);
        Transactions transactions = new Transactions(producer, 600_000, 100_000, metrics);
        return new Intake(consumer, "images", List.of(), publisher, acks, () -> true, 32, 16, 8, 1_000, metrics, transactions);
    }
}
