package io.inferencefleet.kafka.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The persistent mode ({@code fleet broker}) for real: clients produce and consume, the data survives a
 * restart, and a second broker on the same directory or port is refused.
 */
@Tag("slow")
@Timeout(120)  // seconds; a stuck broker shutdown fails the test instead of hanging the build
class PersistentModeTest {
    @TempDir
    Path temp;

    @Test
    void recordsSurviveARestartOnTheSameDirectory() throws Exception {
        Path dir = temp.resolve("kafka");
        int port = freePort();
        int controllerPort = freePort();

        long coldNs = System.nanoTime();
        String clusterId;
        try (SingleNodeKafka broker = SingleNodeKafka.startPersistent(dir, port, controllerPort, Map.of())) {
            coldNs = System.nanoTime() - coldNs;
            assertTrue(broker.formatted(), "first use formats the storage");
            assertEquals("127.0.0.1:" + port, broker.bootstrapServers());
            clusterId = broker.clusterId();
            assertNotNull(clusterId);
            try (KafkaProducer<String, String> producer = producer(broker.bootstrapServers())) {
                // "events" does not exist yet: auto-created on first use.
                producer.send(new ProducerRecord<>("events", "k1", "kept across restarts")).get();
            }
            assertEquals(List.of("k1=kept across restarts"), read(broker.bootstrapServers(), "events", 1));
        }
        assertTrue(Files.exists(dir.resolve("data/.kafka_cleanshutdown")), "controlled, clean shutdown");
        assertTrue(Files.readString(dir.resolve("server.properties")).contains("auto.create.topics.enable=true"));

        long warmNs = System.nanoTime();
        try (SingleNodeKafka broker = SingleNodeKafka.startPersistent(dir, port, controllerPort, Map.of())) {
            warmNs = System.nanoTime() - warmNs;
            assertFalse(broker.formatted(), "the formatted storage is reused");
            assertEquals(clusterId, broker.clusterId());
            assertEquals(List.of("k1=kept across restarts"), read(broker.bootstrapServers(), "events", 1));
        }
        System.out.printf("persistent broker start: cold (format) %.2f s, warm %.2f s%n", coldNs / 1e9, warmNs / 1e9);
    }

    @Test
    void overridesApplyAndASecondBrokerOnTheSameDirectoryOrPortIsRefused() throws Exception {
        Path dir = temp.resolve("kafka");
        int port = freePort();
        int controllerPort = freePort();
        try (SingleNodeKafka broker = SingleNodeKafka.startPersistent(dir, port, controllerPort,
                Map.of("auto.create.topics.enable", "false"))) {
            createTopic(broker.bootstrapServers(), "events");
            try (KafkaProducer<String, String> producer = producer(broker.bootstrapServers())) {
                var failure = assertThrows(Exception.class,
                        () -> producer.send(new ProducerRecord<>("absent", "k", "v")).get());
                assertTrue(String.valueOf(failure.getMessage()).contains("absent"), failure.toString());
            }
            // The same directory is locked by the running broker: a second one must fail, not corrupt it.
            var refused = assertThrows(IllegalStateException.class,
                    () -> SingleNodeKafka.startPersistent(dir, freePort(), freePort(), Map.of()).close());
            assertTrue(refused.getMessage().contains("in use"), refused.getMessage());
            // A busy port is refused before Kafka starts (Kafka itself would exit the JVM).
            var busy = assertThrows(IllegalStateException.class,
                    () -> SingleNodeKafka.startPersistent(temp.resolve("other"), port, freePort(), Map.of()).close());
            assertTrue(busy.getMessage().contains("client port " + port + " on 127.0.0.1 is in use"), busy.getMessage());
            try (KafkaProducer<String, String> producer = producer(broker.bootstrapServers())) {
                producer.send(new ProducerRecord<>("events", "k", "v")).get();  // the running one is unharmed
            }
        }
    }

    private static void createTopic(String bootstrap, String topic) throws Exception {
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000), new StringSerializer(), new StringSerializer());
    }

    private static List<String> read(String bootstrap, String topic, int count) {
        List<String> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "reader-" + System.nanoTime(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
                new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (records.size() < count && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    records.add(r.key() + "=" + r.value());
                }
            }
        }
        return records;
    }
}
