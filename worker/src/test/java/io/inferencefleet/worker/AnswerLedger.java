package io.inferencefleet.worker;

import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.MessageCodec;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * An independent reader of the results topic from its beginning, with no consumer group: per request
 * id, how many results and the time of the first one (the record timestamp; the test's results topic
 * uses {@code LogAppendTime}, so that is when the partition leader wrote it). Not thread-safe.
 */
final class AnswerLedger implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final MessageCodec codec = new MessageCodec();
    private final Map<String, Integer> results = new HashMap<>();
    private final Map<String, Long> firstAtMs = new HashMap<>();

    AnswerLedger(String bootstrapServers, String topic, int partitions) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumer = new KafkaConsumer<>(p);
        List<TopicPartition> all = java.util.stream.IntStream.range(0, partitions)
                .mapToObj(i -> new TopicPartition(topic, i)).toList();
        consumer.assign(all);
        consumer.seekToBeginning(all);
    }

    /** Reads what has arrived, waiting up to {@code timeout} for the first records. */
    void poll(Duration timeout) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
            String id = codec.decodeResult(r.value()).id();
            results.merge(id, 1, Integer::sum);
            firstAtMs.merge(id, r.timestamp(), Math::min);
        }
    }

    boolean answered(String id) {
        return results.containsKey(id);
    }

    int answered() {
        return results.size();
    }

    /** Results beyond the first, over all requests (at-least-once delivery allows them). */
    int duplicates() {
        return results.values().stream().mapToInt(n -> n - 1).sum();
    }

    /** When the first result of {@code id} was written, or null. */
    Long firstAtMs(String id) {
        return firstAtMs.get(id);
    }

    /** The earliest result written after {@code ms}, or -1. */
    long firstResultAfter(long ms) {
        return firstAtMs.values().stream().mapToLong(Long::longValue).filter(t -> t > ms).min().orElse(-1);
    }

    /** The longest time without a new answer between {@code fromMs} and {@code toMs}. */
    long longestGapMs(long fromMs, long toMs) {
        long[] times = LongStream.concat(LongStream.of(fromMs, toMs),
                firstAtMs.values().stream().mapToLong(Long::longValue).filter(t -> t > fromMs && t < toMs)).sorted().toArray();
        long gap = 0;
        for (int i = 1; i < times.length; i++) {
            gap = Math.max(gap, times[i] - times[i - 1]);
        }
        return gap;
    }

    @Override
    public void close() {
        consumer.close();
    }
}
