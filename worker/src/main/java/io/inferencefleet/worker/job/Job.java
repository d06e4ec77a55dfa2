package io.inferencefleet.worker.job;

import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.InferenceResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.record.TimestampType;

/**
 * One accepted input record on its way through the worker: where it came from (for the result,
 * the offset commit and the dead-letter copy), the decoded request, and stage timings. Created by
 * the intake thread, then owned by one thread at a time (decoder, then predictor, then publisher).
 *
 * <p>A job is answered exactly once, through {@link Answers}: {@link #claimAnswer()} lets the first
 * answer through and refuses any later one, and runs the hook of whoever holds the job (a lane
 * counting its unanswered jobs).
 */
public final class Job {
    private final TopicPartition partition;
    private final long offset;
    private final long timestamp;
    private final TimestampType timestampType;
    private final byte[] key;
    private final byte[] value;
    private final Headers headers;
    private final InferenceRequest request;
    private final long acceptedNs;
    private final AtomicBoolean answered = new AtomicBoolean();
    private volatile Runnable onAnswered;
    private byte[] imageBytes;
    private double fetchMs = Double.NaN;
    private double preprocessMs = Double.NaN;
    /** Exactly-once only: the answer's records, written by the intake in its transaction. */
    private final List<ProducerRecord<byte[], byte[]>> staged = new ArrayList<>(2);
    private volatile InferenceResult stagedOutcome;

    /**
     * @param timestamp the input record's timestamp (ms; -1 for none) and {@code timestampType} its kind,
     *                  for the dead-letter copy
     * @param request null when the record was not a valid request
     */
    public Job(TopicPartition partition, long offset, long timestamp, TimestampType timestampType, byte[] key,
               byte[] value, Headers headers, InferenceRequest request, long acceptedNs) {
        this.partition = partition;
        this.offset = offset;
        this.timestamp = timestamp;
        this.timestampType = timestampType;
        this.key = key;
        this.value = value;
        this.headers = headers;
        this.request = request;
        this.acceptedNs = acceptedNs;
    }

    public TopicPartition partition() {
        return partition;
    }

    public long offset() {
        return offset;
    }

    /** The input record's timestamp in ms (-1 when it has none). */
    public long timestamp() {
        return timestamp;
    }

    public TimestampType timestampType() {
        return timestampType;
    }

    public byte[] key() {
        return key;
    }

    /** The input record's value, kept for the dead-letter copy. */
    public byte[] value() {
        return value;
    }

    public Headers headers() {
        return headers;
    }

    /** Null when the record was not a valid request. */
    public InferenceRequest request() {
        return request;
    }

    public long acceptedNs() {
        return acceptedNs;
    }

    public double fetchMs() {
        return fetchMs;
    }

    public double preprocessMs() {
        return preprocessMs;
    }

    /** The fetched image, between fetch and preprocessing; null before and after. */
    public byte[] imageBytes() {
        return imageBytes;
    }

    public void fetched(byte[] bytes, double elapsedMs) {
        this.imageBytes = bytes;
        this.fetchMs = elapsedMs;
    }

    /** Preprocessing is over (whatever its outcome): the image bytes are no longer needed. */
    public void preprocessed(double elapsedMs) {
        this.imageBytes = null;
        this.preprocessMs = elapsedMs;
    }

    /** Runs {@code hook} once, when the job is answered (set by the lane that takes the job). */
    public void onAnswered(Runnable hook) {
        this.onAnswered = hook;
    }

    /**
     * True for the first caller only: that caller publishes the job's one answer. Any later answer is
     * a bug the caller reports instead of publishing a second result.
     */
    public boolean claimAnswer() {
        if (!answered.compareAndSet(false, true)) {
            return false;
        }
        Runnable hook = onAnswered;
        if (hook != null) {
            hook.run();
        }
        return true;
    }

    public boolean isAnswered() {
        return answered.get();
    }

    /**
     * Exactly-once: keeps one of the answer's records (result, dead-letter copy) for the intake's
     * transaction. Called by the answering threads before the job is acknowledged, which publishes it.
     */
    public void stage(ProducerRecord<byte[], byte[]> record) {
        synchronized (staged) {
            staged.add(record);
        }
    }

    /** Exactly-once: the result to count when the transaction holding it commits (the last one staged). */
    public void stageOutcome(InferenceResult result) {
        stagedOutcome = result;
    }

    /** The result staged for counting, or null. */
    public InferenceResult stagedOutcome() {
        return stagedOutcome;
    }

    /** The staged records, in the order staged. */
    public List<ProducerRecord<byte[], byte[]>> stagedRecords() {
        synchronized (staged) {
            return List.copyOf(staged);
        }
    }

    /** Identifies the job in a lane's registry (the shm record carries partition and offset). */
    public static long registryKey(int partition, long offset) {
        // Offsets stay far below 2^48 in practice; the partition takes the top 16 bits.
        return ((long) partition << 48) | (offset & 0xFFFF_FFFF_FFFFL);
    }

    @Override
    public String toString() {
        return "Job{" + partition + "@" + offset + (request != null ? ", id=" + request.id() : "") + '}';
    }
}
