package io.inferencefleet.worker.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.messages.ErrorCode;
import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.worker.job.Acknowledgements;
import io.inferencefleet.worker.job.Job;
import io.inferencefleet.worker.metrics.WorkerMetrics;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/**
 * Exactly-once answers are staged on the job, not sent; one too large for the producer is found
 * before the transaction (where it would abort it) and takes the usual per-record path.
 */
class StagingSinkTest {
    private final Acknowledgements acks = new Acknowledgements();
    private final MessageCodec codec = new MessageCodec();

    private ResultPublisher publisher(int maxRequestBytes) {
        return new ResultPublisher(new StagingSink(maxRequestBytes, new io.inferencefleet.worker.job.RefusedRecords()), "predictions", "images.DLT",
                new ResultPublisher.Source("images", "fleet-group"),
                new ResultFactory(new InferenceResult.ModelRef("m", "v"), "w", "images", List.of(), 5), acks,
                new WorkerMetrics());
    }

    private static Job job(Map<String, String> attributes) {
        return new Job(new TopicPartition("images", 0), 7, -1L, org.apache.kafka.common.record.TimestampType.NO_TIMESTAMP_TYPE, null, "x".repeat(1000).getBytes(StandardCharsets.UTF_8),
                new RecordHeaders(), InferenceRequest.of("r1", "file:///a.jpg").withAttributes(attributes),
                System.nanoTime());
    }

    @Test
    void anErrorAnswerStagesItsResultAndDeadLetterCopyAndIsAcknowledgedAtOnce() {
        Job job = job(Map.of());
        publisher(1_048_576).error(job, ErrorCode.NOT_FOUND, "no such file");
        assertSame(job, acks.poll(), "acknowledged once both records are staged");
        List<ProducerRecord<byte[], byte[]>> staged = job.stagedRecords();
        assertEquals(List.of("predictions", "images.DLT"), staged.stream().map(ProducerRecord::topic).toList());
        assertEquals("not_found", codec.decodeResult(staged.get(0).value()).error().code());
    }

    @Test
    void aResultOverMaxRequestSizeIsReplacedBeforeItCouldAbortTheTransaction() throws Exception {
        Job job = job(Map.of("big", "y".repeat(20_000)));
        publisher(8_000).ok(job, new float[] {0.9f, 0.1f}, 2, 1.0, 0.0);
        long deadline = System.nanoTime() + 5_000_000_000L;
        Job acknowledged;
        while ((acknowledged = acks.poll()) == null && System.nanoTime() < deadline) {
            Thread.sleep(5);  // the replacement is built on its own thread
        }
        assertSame(job, acknowledged);
        List<ProducerRecord<byte[], byte[]>> staged = job.stagedRecords();
        assertEquals(1, staged.size(), "only the replacement is staged: " + staged);
        InferenceResult result = codec.decodeResult(staged.get(0).value());
        assertEquals("result_too_large", result.error().code());
        assertTrue(StagingSink.upperBoundBytes(staged.get(0)) <= 8_000);
    }
}
