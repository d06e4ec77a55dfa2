package io.inferencefleet.worker.publish;

import io.inferencefleet.worker.job.Job;
import io.inferencefleet.worker.job.RefusedRecords;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;

/**
 * The exactly-once sink: a job's records are not sent here but {@linkplain Job#stage staged} on the
 * job, and the intake thread writes them inside its transaction (whose offsets and their metadata then
 * name exactly the records whose results it holds). Each record is "acknowledged" to
 * {@link ResultPublisher} as soon as it is staged.
 *
 * <p>A record too large for the producer must be found here, not by the producer: inside a
 * transaction any failed send makes the whole transaction abort. So the size is checked against
 * {@code max.request.size} with Kafka's framing overhead (an upper bound, as the producer's own check
 * is), and a record over it fails with {@link RecordTooLargeException}, which sends
 * {@link ResultPublisher} down its usual per-record path (a small {@code result_too_large} result, a
 * truncated dead-letter copy). A record the broker refused in an aborted transaction ({@link
 * RefusedRecords}) takes the same path when it is answered again. Thread-safe.
 */
public final class StagingSink implements ResultSink {
    /** A batch's header (magic 2) plus one record's largest varint framing. */
    static final int BATCH_OVERHEAD_BYTES = 61 + 21;
    /** Largest varint framing of one header (key length, value length). */
    static final int HEADER_OVERHEAD_BYTES = 10;

    private final int maxRequestBytes;
    private final RefusedRecords refused;

    /**
     * @param maxRequestBytes the transactional producer's {@code max.request.size}
     * @param refused what the broker refused in an aborted transaction: such a record fails here at once
     */
    public StagingSink(int maxRequestBytes, RefusedRecords refused) {
        this.maxRequestBytes = maxRequestBytes;
        this.refused = refused;
    }

    @Override
    public void send(Job job, ProducerRecord<byte[], byte[]> record, Callback callback) {
        if (refused.take(job.partition(), job.offset(), record.topic())) {
            callback.onCompletion(null, new RecordTooLargeException("The broker refused this record as too large in"
                    + " an earlier, aborted transaction (the topic's max.message.bytes is below max.request.size)"));
            return;
        }
        int bytes = upperBoundBytes(record);
        if (bytes > maxRequestBytes) {
            callback.onCompletion(null, new RecordTooLargeException("The record is at most " + bytes + " bytes"
                    + " serialized, over max.request.size (" + maxRequestBytes + ")"));
            return;
        }
        job.stage(record);
        callback.onCompletion(null, null);
    }

    static int upperBoundBytes(ProducerRecord<byte[], byte[]> record) {
        long bytes = BATCH_OVERHEAD_BYTES + length(record.key()) + length(record.value());
        for (Header header : record.headers()) {
            bytes += HEADER_OVERHEAD_BYTES + header.key().getBytes(StandardCharsets.UTF_8).length + length(header.value());
        }
        return (int) Math.min(Integer.MAX_VALUE, bytes);
    }

    private static int length(byte[] bytes) {
        return bytes == null ? 0 : bytes.length;
    }

    @Override
    public boolean countsAtCommit() {
        return true;
    }

    /** Nothing to wait for: the intake's transaction writes the records. */
    @Override
    public void flush() {}

    @Override
    public void close() {}
}
