package io.inferencefleet.worker.lane;

import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.shm.TensorQueue;
import io.inferencefleet.worker.job.Job;
import java.nio.file.Path;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.header.internals.RecordHeaders;

/** Jobs and a real shared-memory tensor queue (in a temporary directory) for driving agents directly. */
final class AgentFixture {
    private static long nextOffset;

    private AgentFixture() {}

    static Job job(InferenceRequest request) {
        return new Job(new TopicPartition("images", 0), nextOffset++, -1L, TimestampType.NO_TIMESTAMP_TYPE, null, new byte[0], new RecordHeaders(), request,
                System.nanoTime());
    }

    /** A queue as a lane opens it, holding 4 tensors. */
    static TensorQueue queue(Path dir, int tensorBytes) {
        return TensorQueue.open(DecoderLane.queueConfig("test-lane", dir, tensorBytes).capacityTensors(4).build());
    }

    /** As {@link #queue}, with room for only {@code keyBytes} of request id (to make a commit fail). */
    static TensorQueue queueWithKeyRoom(Path dir, int tensorBytes, int keyBytes) {
        return TensorQueue.open(DecoderLane.queueConfig("test-lane", dir, tensorBytes).capacityTensors(4)
                .maxRequestKeyBytes(keyBytes).build());
    }
}
