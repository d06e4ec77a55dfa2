package io.inferencefleet.worker.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * The answer path on Kafka's MockProducer (no broker): per-record write failures still give the
 * request its one answer; fatal ones stop the worker; a second answer is refused.
 */
class ResultPublisherTest {
    private final MockProducer<byte[], byte[]> producer = new MockProducer<>(false, null, new ByteArraySerializer(),
            new ByteArraySerializer());
    private final Acknowledgements acks = new Acknowledgements();
    private final ResultPublisher publisher = new ResultPublisher(producer, "predictions", "images.DLT",
            new ResultPublisher.Source("images", "fleet-group"),
            new ResultFactory(new InferenceResult.ModelRef("m", "v"), "w", "images", List.of(), 5), acks,
            new WorkerMetrics());
    private final MessageCodec codec = new MessageCodec();

    private static Job job(Map<String, String> attributes) {
        byte[] value = "x".repeat(1000).getBytes(StandardCharsets.UTF_8);
        return new Job(new TopicPartition("images", 0), 7, -1L, TimestampType.NO_TIMESTAMP_TYPE, null, value, new RecordHeaders(),
                InferenceRequest.of("r1", "file:///a.jpg").withAttributes(attributes), System.nanoTime());
    }

    private InferenceResult result(ProducerRecord<byte[], byte[]> record) {
        return codec.decodeResult(record.value());
    }

    private void awaitSends(int n) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (producer.history().size() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(n, producer.history().size(), producer.history().toString());
    }

    @Test
    void aResultKafkaRefusesAsTooLargeIsReplacedBySmallResultTooLargeErrorAndTheJobIsAcknowledged() throws Exception {
        // Regression: RecordTooLargeException was fatal: the worker exited, the record was never
        // committed, and every restart read it again and died.
        Job job = job(Map.of("blob", "y".repeat(5000)));
        float[] scores = new float[10];
        publisher.ok(job, scores, 10, 1.0, 1.0);
        producer.errorNext(new RecordTooLargeException("too big"));
        awaitSends(2);
        InferenceResult replacement = result(producer.history().get(1));
        assertEquals(InferenceResult.Status.ERROR, replacement.status());
        assertEquals(ErrorCode.RESULT_TOO_LARGE.code(), replacement.error().code());
        assertTrue(replacement.attributes().isEmpty(), "echoed attributes dropped");
        assertNull(acks.poll(), "not acknowledged before the broker acknowledges the replacement");
        producer.completeNext();
        assertSame(job, acks.poll());
        assertNull(acks.fatal());
    }

    @Test
    void aDeadLetterCopyThatDoesNotFitIsSentTruncatedWithAHeaderSayingSo() throws Exception {
        Job job = job(Map.of());
        publisher.error(job, ErrorCode.NOT_FOUND, "no file");
        awaitSends(2);
        producer.completeNext();  // the result
        producer.errorNext(new RecordTooLargeException("too big"));
        awaitSends(3);
        ProducerRecord<byte[], byte[]> cut = producer.history().get(2);
        assertEquals("images.DLT", cut.topic());
        assertEquals("1000", new String(cut.headers().lastHeader(ResultPublisher.TRUNCATED_HEADER).value(),
                StandardCharsets.US_ASCII));
        producer.completeNext();
        assertSame(job, acks.poll());
    }

    @Test
    void anAuthorizationFailureIsFatalAndNothingIsAcknowledged() {
        Job job = job(Map.of());
        publisher.ok(job, new float[3], 3, 1.0, 1.0);
        producer.errorNext(new TopicAuthorizationException("no"));
        assertTrue(acks.fatal() instanceof TopicAuthorizationException);
        assertTrue(ResultPublisher.refusedForGood(acks.fatal()));
        assertNull(acks.poll());
    }

    @Test
    void aSecondAnswerToOneJobIsRefusedNotPublished() {
        Job job = job(Map.of());
        publisher.error(job, ErrorCode.INTERNAL_ERROR, "first");
        publisher.ok(job, new float[3], 3, 1.0, 1.0);
        assertEquals(2, producer.history().size(), "the result and its dead-letter copy, nothing more");
        assertEquals(ErrorCode.INTERNAL_ERROR.code(), result(producer.history().get(0)).error().code());
    }

    @Test
    void aReplacementResultDropsTheRequestHeadersThatMayHaveMadeItTooLarge() throws Exception {
        // Before: the replacement kept a huge traceparent header, was refused again, and the worker stopped.
        RecordHeaders headers = new RecordHeaders();
        headers.add("traceparent", new byte[2 << 20]);
        Job job = new Job(new TopicPartition("images", 0), 8, -1L, TimestampType.NO_TIMESTAMP_TYPE, null, new byte[10], headers,
                InferenceRequest.of("r2", "file:///a.jpg"), System.nanoTime());
        publisher.ok(job, new float[3], 3, 1.0, 1.0);
        producer.errorNext(new RecordTooLargeException("too big"));
        awaitSends(2);
        assertEquals(0, producer.history().get(1).headers().toArray().length);
        producer.completeNext();
        assertSame(job, acks.poll());
        assertNull(acks.fatal());
    }

    @Test
    void aDeadLetterCopyCarriesSpringKafkasHeadersInSpringsEncodingsBesideOurs() throws Exception {
        RecordHeaders request = new RecordHeaders();
        request.add("correlation-id", "c-1".getBytes(StandardCharsets.UTF_8));
        // A record once replayed from a Spring DLT: its old exception headers are replaced, its old original-* kept.
        request.add(DeadLetterHeaders.EXCEPTION_FQCN, "com.example.OldFailure".getBytes(StandardCharsets.UTF_8));
        request.add(DeadLetterHeaders.ORIGINAL_TOPIC, "upstream".getBytes(StandardCharsets.UTF_8));
        Job job = new Job(new TopicPartition("images", 3), 1L << 33, 1_700_000_000_123L, TimestampType.CREATE_TIME, null,
                new byte[10], request, InferenceRequest.of("r3", "file:///a.jpg"), System.nanoTime());
        publisher.error(job, ErrorCode.NOT_FOUND, "no file /a.jpg");
        awaitSends(2);
        ProducerRecord<byte[], byte[]> copy = producer.history().get(1);
        assertEquals("images.DLT", copy.topic());
        assertSpringHeaders(copy, 3, 1L << 33, 1_700_000_000_123L, "CreateTime", "not_found: no file /a.jpg");
        assertEquals("c-1", utf8(copy, "correlation-id"));
        assertEquals("not_found", utf8(copy, ResultPublisher.ERROR_CODE_HEADER));
        assertEquals("no file /a.jpg", utf8(copy, ResultPublisher.ERROR_MESSAGE_HEADER));
        assertEquals(1, count(copy, DeadLetterHeaders.EXCEPTION_FQCN), "the old exception header was replaced");
        assertEquals(2, count(copy, DeadLetterHeaders.ORIGINAL_TOPIC), "the old original-topic kept, ours last");
    }

    @Test
    void aTruncatedDeadLetterCopyKeepsSpringsHeadersButNotTheRequests() throws Exception {
        RecordHeaders request = new RecordHeaders();
        request.add("x-huge", new byte[1 << 20]);
        Job job = new Job(new TopicPartition("images", 1), 42, 5L, TimestampType.LOG_APPEND_TIME, null,
                new byte[100_000], request, InferenceRequest.of("r4", "file:///b.jpg"), System.nanoTime());
        publisher.error(job, ErrorCode.UNDECODABLE_IMAGE, "bad bytes");
        awaitSends(2);
        producer.completeNext();  // the result
        producer.errorNext(new RecordTooLargeException("too big"));
        awaitSends(3);
        ProducerRecord<byte[], byte[]> cut = producer.history().get(2);
        assertEquals(64 * 1024, cut.value().length);
        assertNull(cut.headers().lastHeader("x-huge"));
        assertEquals("100000", utf8(cut, ResultPublisher.TRUNCATED_HEADER));
        assertSpringHeaders(cut, 1, 42, 5L, "LogAppendTime", "undecodable_image: bad bytes");
        producer.completeNext();
        assertSame(job, acks.poll());
    }

    /**
     * Decodes the headers as Spring Kafka reads them back (spring-projects/spring-kafka: its
     * DeadLetterRecordManager writes the partition with ByteBuffer.allocate(Integer.BYTES).putInt, offset
     * and timestamp with ByteBuffer.allocate(Long.BYTES).putLong, strings as UTF-8 bytes; ByteBuffer is
     * big-endian, so a reader does ByteBuffer.wrap(value).getInt() / getLong()). Spring Kafka is not a
     * dependency: this is that decoding done by hand.
     */
    private static void assertSpringHeaders(ProducerRecord<byte[], byte[]> copy, int partition, long offset,
                                            long timestamp, String timestampType, String message) {
        assertEquals("images", utf8(copy, "kafka_dlt-original-topic"));
        byte[] p = copy.headers().lastHeader("kafka_dlt-original-partition").value();
        assertEquals(4, p.length);
        assertEquals(partition, java.nio.ByteBuffer.wrap(p).getInt());
        byte[] o = copy.headers().lastHeader("kafka_dlt-original-offset").value();
        assertEquals(8, o.length);
        assertEquals(offset, java.nio.ByteBuffer.wrap(o).getLong());
        byte[] t = copy.headers().lastHeader("kafka_dlt-original-timestamp").value();
        assertEquals(8, t.length);
        assertEquals(timestamp, java.nio.ByteBuffer.wrap(t).getLong());
        assertEquals(timestampType, utf8(copy, "kafka_dlt-original-timestamp-type"));
        assertEquals(TimestampType.forName(timestampType).toString(), timestampType);
        assertEquals("fleet-group", utf8(copy, "kafka_dlt-original-consumer-group"));
        assertEquals("io.inferencefleet.messages.RequestFailedException", utf8(copy, "kafka_dlt-exception-fqcn"));
        assertEquals("io.inferencefleet.messages.RequestFailedException", utf8(copy, "kafka_dlt-exception-cause-fqcn"));
        assertEquals(message, utf8(copy, "kafka_dlt-exception-message"));
        assertEquals("io.inferencefleet.messages.RequestFailedException: " + message + System.lineSeparator(),
                utf8(copy, "kafka_dlt-exception-stacktrace"));
    }

    private static String utf8(ProducerRecord<byte[], byte[]> record, String header) {
        org.apache.kafka.common.header.Header h = record.headers().lastHeader(header);
        assertTrue(h != null, "no header " + header + " in " + record.headers());
        return new String(h.value(), StandardCharsets.UTF_8);
    }

    private static long count(ProducerRecord<byte[], byte[]> record, String header) {
        return java.util.stream.StreamSupport.stream(record.headers().headers(header).spliterator(), false).count();
    }
}
