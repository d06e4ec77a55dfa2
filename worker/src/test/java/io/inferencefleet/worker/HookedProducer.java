package io.inferencefleet.worker;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.metrics.KafkaMetric;

/**
 * A real producer with a hook run before each {@code commitTransaction}: the tests' way to make a
 * real transaction on a real broker fail (the hook throws, and the worker aborts the real
 * transaction) or to freeze the thread that owns the transaction (the hook blocks).
 */
final class HookedProducer implements Producer<byte[], byte[]> {
    /** Runs before the real commit; throwing replaces the commit. */
    interface Hook {
        void beforeCommit(int commit);
    }

    private final Producer<byte[], byte[]> real;
    private final Hook hook;
    private int commits;

    HookedProducer(Producer<byte[], byte[]> real, Hook hook) {
        this.real = real;
        this.hook = hook;
    }

    @Override
    public void commitTransaction() {
        hook.beforeCommit(++commits);
        real.commitTransaction();
    }

    @Override
    public void initTransactions() {
        real.initTransactions();
    }

    @Override
    public void beginTransaction() {
        real.beginTransaction();
    }

    @Override
    public void sendOffsetsToTransaction(Map<TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata group) {
        real.sendOffsetsToTransaction(offsets, group);
    }

    @Override
    public void abortTransaction() {
        real.abortTransaction();
    }

    @Override
    public void registerMetricForSubscription(KafkaMetric metric) {
        real.registerMetricForSubscription(metric);
    }

    @Override
    public void unregisterMetricFromSubscription(KafkaMetric metric) {
        real.unregisterMetricFromSubscription(metric);
    }

    @Override
    public Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record) {
        return real.send(record);
    }

    @Override
    public Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
        return real.send(record, callback);
    }

    @Override
    public void flush() {
        real.flush();
    }

    @Override
    public List<PartitionInfo> partitionsFor(String topic) {
        return real.partitionsFor(topic);
    }

    @Override
    public Map<MetricName, ? extends Metric> metrics() {
        return real.metrics();
    }

    @Override
    public Uuid clientInstanceId(Duration timeout) {
        return real.clientInstanceId(timeout);
    }

    @Override
    public void close() {
        real.close();
    }

    @Override
    public void close(Duration timeout) {
        real.close(timeout);
    }
}
