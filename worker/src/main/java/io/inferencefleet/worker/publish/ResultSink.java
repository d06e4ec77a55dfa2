package io.inferencefleet.worker.publish;

import io.inferencefleet.worker.job.Job;
import java.time.Duration;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Where {@link ResultPublisher} writes a job's records: straight to a producer (at-least-once), or
 * staged on the job for the intake's transaction ({@link StagingSink}, exactly-once). The callback
 * runs once per record, with null or the exception that record failed with, exactly as
 * {@link Producer#send(ProducerRecord, Callback)}'s does.
 */
public interface ResultSink {
    void send(Job job, ProducerRecord<byte[], byte[]> record, Callback callback);

    /** Blocks until every record sent so far is acknowledged or failed. */
    void flush();

    /** Waits (bounded) for what was sent. */
    void close();

    /**
     * True when a sent record is only staged, and becomes a result when a transaction commits: the
     * result is then counted ({@code fleet_requests_total}) at that commit, not when staged, so that an
     * aborted transaction's answers, given again, are not counted twice.
     */
    default boolean countsAtCommit() {
        return false;
    }

    /** Sends with {@code producer} (which {@link #close()} closes). */
    static ResultSink of(Producer<byte[], byte[]> producer) {
        return new ResultSink() {
            @Override
            public void send(Job job, ProducerRecord<byte[], byte[]> record, Callback callback) {
                producer.send(record, callback);
            }

            @Override
            public void flush() {
                producer.flush();
            }

            @Override
            public void close() {
                producer.close(Duration.ofSeconds(10));
            }
        };
    }
}
