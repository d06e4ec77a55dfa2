package io.inferencefleet.kafka.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ephemeral mode as the demo, the benchmarks and the tests use it: what Kafka's test kit gave
 * them (offsets and groups on one node, topics created on first use or with explicit partitions),
 * plus transactions, and nothing left behind.
 */
@Tag("slow")
@Timeout(120)  // seconds; a stuck broker shutdown fails the test instead of hanging the build
class EphemeralModeTest {
    @TempDir
    Path temp;

    @Test
    void servesGroupsAutoCreatedTopicsAndTransactionsThenDeletesItsDirectory() throws Exception {
        long startNs = System.nanoTime();
        Path dir;
        try (SingleNodeKafka kafka = SingleNodeKafka.startEphemeral(temp, Map.of())) {
            startNs = System.nanoTime() - startNs;
            dir = kafka.directory();
            assertTrue(kafka.ephemeral());
            assertTrue(kafka.formatted());
            assertTrue(Files.exists(dir.resolve("data/meta.properties")));
            assertTrue(kafka.bootstrapServers().matches("127\\.0\\.0\\.1:\\d+"), kafka.bootstrapServers());
            assertTrue(Files.readString(dir.resolve("server.properties")).contains("log.cleaner.dedupe.buffer.size=2097152"));

            // Produced to before anyone created it: auto-created with one partition.
            try (KafkaProducer<String, String> producer = producer(kafka, Map.of())) {
                producer.send(new ProducerRecord<>("auto", "k", "v")).get();
            }
            try (Admin admin = admin(kafka)) {
                assertEquals(1, admin.describeTopics(Set.of("auto")).allTopicNames().get().get("auto").partitions().size());
            }

            // A consumer group commits (the offsets topic has one replica), and a one-member group
            // does not wait the default 3 s for others to join.
            try (KafkaConsumer<String, String> consumer = consumer(kafka, "g", "read_uncommitted")) {
                consumer.subscribe(List.of("auto"));
                assertEquals(List.of("k=v"), poll(consumer, 1));
                consumer.commitSync();
            }
            try (Admin admin = admin(kafka)) {
                Map<TopicPartition, OffsetAndMetadata> committed =
                        admin.listConsumerGroupOffsets("g").partitionsToOffsetAndMetadata().get();
                assertEquals(1, committed.get(new TopicPartition("auto", 0)).offset());
                ConfigResource node = new ConfigResource(ConfigResource.Type.BROKER, Integer.toString(SingleNodeKafka.NODE_ID));
                Config applied = admin.describeConfigs(Set.of(node)).all().get().get(node);
                assertEquals("0", applied.get("group.initial.rebalance.delay.ms").value());
            }

            // Transactions on one node (the transaction state log has one replica, min ISR 1).
            try (KafkaProducer<String, String> producer = producer(kafka,
                    Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-1"))) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>("tx", "t", "committed"));
                producer.commitTransaction();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>("tx", "t", "aborted"));
                producer.abortTransaction();
            }
            try (KafkaConsumer<String, String> consumer = consumer(kafka, "tx-reader", "read_committed")) {
                consumer.subscribe(List.of("tx"));
                assertEquals(List.of("t=committed"), poll(consumer, 2));
            }
        }
        assertFalse(Files.exists(dir), "the ephemeral directory is deleted on close");
        System.out.printf("ephemeral broker start: %.2f s%n", startNs / 1e9);
    }

    @Test
    void createTopicMakesTheAskedPartitionsAndTwoBrokersRunSideBySide() throws Exception {
        try (SingleNodeKafka first = SingleNodeKafka.startEphemeral(temp, Map.of());
             SingleNodeKafka second = SingleNodeKafka.startEphemeral(temp, Map.of("num.partitions", "4"))) {
            assertNotEquals(first.bootstrapServers(), second.bootstrapServers());
            assertNotEquals(first.directory(), second.directory());
            first.createTopic("images", 3);
            try (Admin admin = admin(first)) {
                assertEquals(3, admin.describeTopics(Set.of("images")).allTopicNames().get().get("images").partitions().size());
            }
            try (KafkaProducer<String, String> producer = producer(second, Map.of())) {
                producer.send(new ProducerRecord<>("auto", "k", "v")).get();  // the override applies
            }
            try (Admin admin = admin(second)) {
                assertEquals(4, admin.describeTopics(Set.of("auto")).allTopicNames().get().get("auto").partitions().size());
                assertFalse(admin.listTopics().names().get().contains("images"), "two separate brokers");
            }
            first.close();
            first.close();  // idempotent
            assertFalse(Runtime.getRuntime().removeShutdownHook(first.cleanupHook()),
                    "close removed the JVM-exit cleanup");
            second.createTopic("still-up", 1);
        }
        try (Stream<Path> left = Files.list(temp)) {
            assertEquals(List.of(), left.toList());
        }
    }

    @Test
    void aStartThatFailsLeavesNoDirectory() throws Exception {
        assertThrows(ConfigException.class, () -> SingleNodeKafka.startEphemeral(temp, Map.of("num.partitions", "zero")));
        try (Stream<Path> left = Files.list(temp)) {
            assertEquals(List.of(), left.toList());
        }
    }

    private static Admin admin(SingleNodeKafka kafka) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
    }

    private static KafkaProducer<String, String> producer(SingleNodeKafka kafka, Map<String, Object> extra) {
        Map<String, Object> config = new HashMap<>(extra);
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        return new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
    }

    private static KafkaConsumer<String, String> consumer(SingleNodeKafka kafka, String group, String isolation) {
        return new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation),
                new StringDeserializer(), new StringDeserializer());
    }

    /** Polls until {@code atMost} records arrived or 2 s passed without any new one. */
    private static List<String> poll(KafkaConsumer<String, String> consumer, int atMost) {
        List<String> records = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        long quietUntil = Long.MAX_VALUE;
        while (records.size() < atMost && System.nanoTime() < Math.min(deadline, quietUntil)) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                records.add(r.key() + "=" + r.value());
                quietUntil = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            }
        }
        return records;
    }
}
