package io.inferencefleet.worker.lane;

import io.inferencefleet.messages.InferenceRequest;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Headers;

/**
 * One accepted input record on its way through the worker: where it came from (for the result,
 * the offset commit and the dead-letter copy), the decoded request, and stage timings. Created by
 * the intake thread, then owned by one thread at a time (decoder, then predictor, then publisher).
 */
public final class Job {
    private final TopicPartition partition;
    private final long offset;
    private final byte[] key;
    private final byte[] value;
    private final Headers headers;
    private final InferenceRequest request;
    private final long acceptedNs;
    byte[] imageBytes;
    double fetchMs = Double.NaN;
    double preprocessMs = Double.NaN;
    /** The lane that took the job; it counts the job until it is answered. */
    DecoderLane lane;

    public Job(TopicPartition partition, long offset, byte[] key, byte[] value, Headers headers,
               InferenceRequest request, long acceptedNs) {
        this.partition = partition;
        this.offset = offset;
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

    /** Tells the job's lane that it has been answered (no-op for jobs that never reached a lane). */
    public void answered() {
        if (lane != null) {
            lane.finished();
        }
    }

    /** Identifies the job in a lane's registry (the shm record carries partition and offset). */
    static long registryKey(int partition, long offset) {
        // Offsets stay far below 2^48 in practice; the partition takes the top 16 bits.
        return ((long) partition << 48) | (offset & 0xFFFF_FFFF_FFFFL);
    }
}
