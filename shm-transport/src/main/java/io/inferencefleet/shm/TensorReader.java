package io.inferencefleet.shm;

/**
 * One named reader of a {@link TensorQueue} (a name from {@code readerNames}), confined to the
 * first thread that polls. At most one reader per name may be open at a time, across all processes:
 * the name identifies the progress counters. A tensor whose handler throws counts as consumed
 * (Kafka redelivers it if its offset was not committed). Its progress is published in the queue's counters, which is what the
 * writer's back-pressure and the deletion of consumed cycles go by. Poll with an idle strategy:
 *
 * <pre>{@code
 * IdleStrategy idle = queue.newReaderIdleStrategy();
 * while (running) {
 *     idle.idle(reader.poll(view -> predictor.setInput(0, view.address(), view.lengthBytes(), shape), 1));
 * }
 * }</pre>
 */
public interface TensorReader extends AutoCloseable {
    /** Hands up to {@code maxTensors} committed tensors to the handler, one at a time; returns how many. */
    int poll(TensorHandler handler, int maxTensors);

    /**
     * Hands up to {@code maxTensors} consecutive committed tensors to the handler at once (fewer if
     * fewer are committed or a roll cycle ends); returns how many, 0 without calling the handler.
     */
    int pollBatch(TensorBatchHandler handler, int maxTensors);

    String name();

    @Override
    void close();
}
