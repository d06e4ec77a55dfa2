package io.inferencefleet.testing;

import io.inferencefleet.kafka.local.SingleNodeKafka;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A real single-node KRaft Kafka broker in the test JVM, plus the client helpers the tests share:
 * an ephemeral {@link SingleNodeKafka} (the broker {@code fleet demo} and the benchmarks run), so
 * the tests exercise Kafka's production server, not a test kit.
 *
 * <pre>{@code
 * try (KafkaBroker broker = new KafkaBroker()) {      // ready when the constructor returns
 *     broker.createTopic("images", 2);               // or let the first producer auto-create it (1 partition)
 *     ... broker.readAll("predictions", 3, Duration.ofSeconds(30)) ...
 * }                                                   // stopped, its temporary directory deleted
 * }</pre>
 */
public final class KafkaBroker implements AutoCloseable {
    private final SingleNodeKafka kafka;

    public KafkaBroker() throws Exception {
        kafka = SingleNodeKafka.startEphemeral();
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    public Map<String, Object> clientConfig() {
        return Map.of("bootstrap.servers", bootstrapServers());
    }

    public void createTopic(String name, int partitions) throws Exception {
        kafka.createTopic(name, partitions);
    }

    public KafkaProducer<byte[], byte[]> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    public KafkaConsumer<byte[], byte[]> consumerFromBeginning(String topic) {
        return consumerFromBeginning(topic, false);
    }

    /** @param readCommitted {@code isolation.level=read_committed}: only results of committed transactions */
    public KafkaConsumer<byte[], byte[]> consumerFromBeginning(String topic, boolean readCommitted) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p);
        List<TopicPartition> partitions = new ArrayList<>();
        consumer.partitionsFor(topic).forEach(info -> partitions.add(new TopicPartition(topic, info.partition())));
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    /** Reads {@code topic} from the beginning until {@code count} records arrived or the timeout passed. */
    public List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int count, Duration timeout) {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = consumerFromBeginning(topic)) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (records.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
            }
        }
        return records;
    }

    public Admin admin() {
        return Admin.create(Map.of("bootstrap.servers", bootstrapServers()));
    }

    /** Committed offsets of {@code group} against the end offsets of {@code topic}'s partitions. */
    public Map<TopicPartition, long[]> committedVsEnd(String group, String topic) throws Exception {
        try (Admin admin = admin()) {
            Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            int partitions = admin.describeTopics(Set.of(topic)).allTopicNames().get().get(topic).partitions().size();
            Map<TopicPartition, long[]> result = new HashMap<>();
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
            p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
                List<TopicPartition> tps = new ArrayList<>();
                for (int i = 0; i < partitions; i++) {
                    tps.add(new TopicPartition(topic, i));
                }
                Map<TopicPartition, Long> ends = consumer.endOffsets(tps);
                for (TopicPartition tp : tps) {
                    OffsetAndMetadata c = committed.get(tp);
                    result.put(tp, new long[] {c == null ? -1 : c.offset(), ends.get(tp)});
                }
            }
            return result;
        }
    }

    @Override
    public void close() throws Exception {
        kafka.close();
    }
}
