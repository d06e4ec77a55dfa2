package io.inferencefleet.worker.intake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.messages.ErrorCode;
import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.worker.job.Acknowledgements;
import io.inferencefleet.worker.job.RecordingAnswers;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** The intake on Kafka's MockConsumer (no broker): whatever a record does, it gets one answer and the intake goes on. */
class IntakeTest {
    @Test
    void aRecordWhoseHandlingThrowsIsAnsweredAndTheIntakeKeepsPolling() throws Exception {
        // Regression: an exception while accepting a record ended the intake thread; the record stayed
        // uncommitted, so every next owner of its partition died on it too. No lanes at all make the
        // hand-over throw here.
        MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
        TopicPartition tp = new TopicPartition("images", 0);
        RecordingAnswers answers = new RecordingAnswers();
        WorkerMetrics metrics = new WorkerMetrics();
        Intake intake = new Intake(consumer, "images", List.of(), answers, new Acknowledgements(), () -> true, 32, 16, 8,
                1_000, metrics);
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(tp));
            consumer.updateBeginningOffsets(Map.of(tp, 0L));
            consumer.seek(tp, 0);
            byte[] good = new MessageCodec().encode(InferenceRequest.of("r1", "file:///a.jpg"));
            consumer.addRecord(new ConsumerRecord<>("images", 0, 0, null, good));
            consumer.addRecord(new ConsumerRecord<>("images", 0, 1, null, "{not json".getBytes(StandardCharsets.UTF_8)));
        });
        Thread thread = new Thread(intake, "intake-test");
        thread.start();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (answers.answers().size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(thread.isAlive(), "the intake still polls");
        assertEquals(List.of(ErrorCode.INTERNAL_ERROR, ErrorCode.BAD_REQUEST),
                answers.answers().stream().map(RecordingAnswers.Answer::code).toList());
        assertEquals(1.0, metrics.agentErrors("intake"), 0.0);
        intake.stop();
        thread.join(5_000);
    }
}
