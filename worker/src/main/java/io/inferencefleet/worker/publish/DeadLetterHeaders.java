package io.inferencefleet.worker.publish;

import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.RequestFailedException;
import io.inferencefleet.worker.job.Job;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * The headers the worker adds to a dead-letter copy: its own ({@code fleet.error.code},
 * {@code fleet.error.message}, {@code fleet.source}) and those of Spring Kafka's
 * {@code DeadLetterPublishingRecoverer}, written as Spring writes them, so that a Spring consumer of
 * {@code <input>.DLT} can replay the records as it replays its own:
 * <pre>
 *   kafka_dlt-original-topic            UTF-8
 *   kafka_dlt-original-partition        4-byte big-endian int
 *   kafka_dlt-original-offset           8-byte big-endian long
 *   kafka_dlt-original-timestamp        8-byte big-endian long (the input record's timestamp, ms)
 *   kafka_dlt-original-timestamp-type   UTF-8, Kafka's TimestampType.toString(): CreateTime, LogAppendTime, NoTimestampType
 *   kafka_dlt-original-consumer-group   UTF-8
 *   kafka_dlt-exception-fqcn            UTF-8 class name: io.inferencefleet.messages.RequestFailedException
 *   kafka_dlt-exception-cause-fqcn      UTF-8, the same class (Spring writes the root cause; ours has none)
 *   kafka_dlt-exception-message         UTF-8 "&lt;error code&gt;: &lt;error message&gt;"
 *   kafka_dlt-exception-stacktrace      UTF-8 printStackTrace() of that exception (one line: it has no frames)
 * </pre>
 * Source: spring-projects/spring-kafka, {@code DeadLetterRecordManager.maybeAddOriginalHeaders} and
 * {@code addExceptionInfoHeaders} (commit 3f3cf7d8, 2026-08-22; {@code ByteBuffer.allocate(Integer.BYTES)
 * .putInt(partition)}, {@code allocate(Long.BYTES).putLong(offset)}, {@code putLong(timestamp)},
 * {@code timestampType().toString().getBytes(UTF_8)}), names from {@code KafkaHeaders.DLT_*}
 * ({@code PREFIX = "kafka_"}). As Spring does by default, a request's own earlier
 * {@code kafka_dlt-original-*} headers stay (ours come last, so {@code lastHeader} finds them) and its
 * earlier {@code kafka_dlt-exception-*} headers are replaced ({@link #isReplacedException}).
 */
final class DeadLetterHeaders {
    static final String ORIGINAL_TOPIC = "kafka_dlt-original-topic";
    static final String ORIGINAL_PARTITION = "kafka_dlt-original-partition";
    static final String ORIGINAL_OFFSET = "kafka_dlt-original-offset";
    static final String ORIGINAL_TIMESTAMP = "kafka_dlt-original-timestamp";
    static final String ORIGINAL_TIMESTAMP_TYPE = "kafka_dlt-original-timestamp-type";
    static final String ORIGINAL_CONSUMER_GROUP = "kafka_dlt-original-consumer-group";
    static final String EXCEPTION_FQCN = "kafka_dlt-exception-fqcn";
    static final String EXCEPTION_CAUSE_FQCN = "kafka_dlt-exception-cause-fqcn";
    static final String EXCEPTION_MESSAGE = "kafka_dlt-exception-message";
    static final String EXCEPTION_STACKTRACE = "kafka_dlt-exception-stacktrace";
    private static final List<String> EXCEPTION_HEADERS = List.of(EXCEPTION_FQCN, EXCEPTION_CAUSE_FQCN,
            EXCEPTION_MESSAGE, EXCEPTION_STACKTRACE);

    private DeadLetterHeaders() {}

    /**
     * Ours and Spring's headers for the dead-letter copy of {@code job}, answered {@code error}
     * ({@code message} already cut to its bound).
     */
    static List<Header> of(Job job, String inputTopic, String consumerGroup, InferenceResult.ErrorInfo error,
                           String message) {
        List<Header> headers = new ArrayList<>();
        headers.add(utf8(ResultPublisher.ERROR_CODE_HEADER, error.code()));
        headers.add(utf8(ResultPublisher.ERROR_MESSAGE_HEADER, message));
        headers.add(utf8(ResultPublisher.SOURCE_HEADER, job.partition() + "@" + job.offset()));

        headers.add(utf8(ORIGINAL_TOPIC, inputTopic));
        headers.add(new RecordHeader(ORIGINAL_PARTITION,
                ByteBuffer.allocate(Integer.BYTES).putInt(job.partition().partition()).array()));
        headers.add(new RecordHeader(ORIGINAL_OFFSET, ByteBuffer.allocate(Long.BYTES).putLong(job.offset()).array()));
        headers.add(new RecordHeader(ORIGINAL_TIMESTAMP, ByteBuffer.allocate(Long.BYTES).putLong(job.timestamp()).array()));
        headers.add(utf8(ORIGINAL_TIMESTAMP_TYPE, job.timestampType().toString()));
        headers.add(utf8(ORIGINAL_CONSUMER_GROUP, consumerGroup));
        RequestFailedException failure = new RequestFailedException(error.code(), message);
        headers.add(utf8(EXCEPTION_FQCN, failure.getClass().getName()));
        headers.add(utf8(EXCEPTION_CAUSE_FQCN, failure.getClass().getName()));
        headers.add(utf8(EXCEPTION_MESSAGE, failure.getMessage()));
        StringWriter trace = new StringWriter();
        failure.printStackTrace(new PrintWriter(trace, true));
        headers.add(utf8(EXCEPTION_STACKTRACE, trace.toString()));
        return headers;
    }

    /** A request header that the copy's own exception headers replace (Spring's stripPreviousExceptionHeaders). */
    static boolean isReplacedException(Header header) {
        return EXCEPTION_HEADERS.contains(header.key());
    }

    private static Header utf8(String key, String value) {
        return new RecordHeader(key, value.getBytes(StandardCharsets.UTF_8));
    }
}
