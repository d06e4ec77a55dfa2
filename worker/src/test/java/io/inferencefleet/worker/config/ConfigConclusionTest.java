package io.inferencefleet.worker.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Derived values concluded once; guarantee-breaking Kafka overrides refused; secrets masked; one parser. */
class ConfigConclusionTest {
    @TempDir
    Path temp;

    @Test
    void derivedValuesAreConcludedOnce() {
        WorkerConfig config = WorkerConfig.resolve(null, Map.of(), Map.of("numa.topology", "0:0-3", "max.in.flight", "40"));
        assertSame(config.threadPlan(), config.threadPlan());
        assertSame(config.topology(), config.topology());
        assertSame(config.fetch(), config.fetch());
        assertEquals(config.workerId(), config.workerId());
        assertEquals(10, config.maxPollRecords());
        assertEquals(5_000, config.fetch().readTimeoutMs(), "fetch.timeout.ms reaches the fetcher");
    }

    @Test
    void theLargestImageHasOneLimitAndItsErrorNamesTheKeyTheUserTyped() {
        // Before: the key allowed up to 2^31, Worker clamped, FetchConfig refused above 2^31-16 naming maxImageBytes.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WorkerConfig.resolve(null, Map.of(), Map.of("fetch.max.image.bytes", "2147483640")));
        assertTrue(e.getMessage().startsWith("Invalid value '2147483640' for fetch.max.image.bytes"), e.getMessage());
        assertEquals(1234, WorkerConfig.resolve(null, Map.of(), Map.of("fetch.max.image.bytes", "1234"))
                .fetch().maxImageBytes());
    }

    @Test
    void slotsGiveEachWorkerItsOwnIdPortAndShmDirectory() {
        WorkerConfig config = WorkerConfig.resolve(null, Map.of("FLEET_METRICS_PORT", "9600"), Map.of());
        WorkerConfig.Slot second = config.slot("h-n0-w1", 1);
        assertEquals(9601, second.metricsPort());
        assertNull(second.shmDir(), "the default shm directory already holds the worker id");
        assertEquals(Map.of("worker.id", "h-n0-w1", "metrics.port", "9601"), second.flags());
        WorkerConfig free = WorkerConfig.resolve(null, Map.of(), Map.of("metrics.port", "0", "shm.dir", "/dev/shm/q"));
        assertEquals(0, free.slot("a", 3).metricsPort(), "0 means a free port for every worker, not port 3");
        assertEquals(Path.of("/dev/shm/q/a"), free.slot("a", 3).shmDir());
        WorkerConfig child = WorkerConfig.resolve(null, Map.of(), second.flags());
        assertEquals(Path.of("/dev/shm/inference-fleet/h-n0-w1"), child.shmDir());
    }

    @Test
    void overridesThatWouldBreakTheDeliveryGuaranteeAreRefusedByName() {
        for (Map.Entry<String, String> bad : List.of(
                Map.entry("kafka.consumer.enable.auto.commit", "true"),
                Map.entry("kafka.enable.auto.commit", "TRUE"),
                Map.entry("kafka.producer.acks", "1"),
                Map.entry("kafka.producer.enable.idempotence", "false"),
                Map.entry("kafka.consumer.max.poll.records", "500"),
                Map.entry("kafka.group.id", "other"),
                Map.entry("kafka.value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> WorkerConfig.resolve(null, Map.of(), Map.of(bad.getKey(), bad.getValue())), bad.toString());
            assertTrue(e.getMessage().startsWith("Invalid value " + bad.getValue() + " for " + bad.getKey() + ": "),
                    e.getMessage());
        }
        WorkerConfig fine = WorkerConfig.resolve(null, Map.of(), Map.of("kafka.producer.acks", "all",
                "kafka.consumer.enable.auto.commit", "false", "kafka.consumer.session.timeout.ms", "6000"));
        assertEquals("all", fine.kafkaProducer().get("acks"));
    }

    @Test
    void exactlyOnceIsChosenByOneKeyAndKeepsItsTransactionalIdAndIsolationToItself() {
        WorkerConfig atLeastOnce = WorkerConfig.resolve(null, Map.of(), Map.of());
        assertFalse(atLeastOnce.exactlyOnce(), "at-least-once stays the default");
        WorkerConfig eos = WorkerConfig.resolve(null, Map.of(), Map.of("delivery.guarantee", "exactly-once",
                "worker.id", "h-n0-w1", "group.id", "g", "kafka.producer.max.request.size", "2000000"));
        assertTrue(eos.exactlyOnce());
        assertEquals("g-h-n0-w1", eos.transactionalId(), "stable across restarts under the same worker.id");
        assertEquals(2_000_000, eos.maxRequestBytes());
        assertEquals(1_048_576, atLeastOnce.maxRequestBytes(), "Kafka's default");
        assertEquals(100, eos.get(WorkerConfig.TRANSACTION_INTERVAL_MS));
        assertEquals(WorkerConfig.DEFAULT_TRANSACTION_TIMEOUT_MS, eos.transactionTimeoutMs());
        for (Map<String, String> bad : List.of(
                Map.of("delivery.guarantee", "exactly-once", "kafka.consumer.isolation.level", "read_uncommitted"),
                Map.of("delivery.guarantee", "exactly-once", "kafka.producer.transactional.id", "mine"),
                Map.of("kafka.transactional.id", "mine"),
                Map.of("delivery.guarantee", "exactly-twice"),
                Map.of("delivery.guarantee", "exactly-once", "transaction.interval.ms", "0"),
                // Regression: a 6 s interval under a 5 s transaction timeout got every transaction aborted (fenced).
                Map.of("delivery.guarantee", "exactly-once", "transaction.interval.ms", "6000",
                        "kafka.producer.transaction.timeout.ms", "5000"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> WorkerConfig.resolve(null, Map.of(), bad), bad.toString());
            assertTrue(e.getMessage().startsWith("Invalid value "), e.getMessage());
        }
        // At-least-once keeps accepting either isolation level, as before.
        assertEquals("read_uncommitted", WorkerConfig.resolve(null, Map.of(),
                Map.of("kafka.consumer.isolation.level", "read_uncommitted")).kafkaConsumer().get("isolation.level"));
    }

    @Test
    void everySettingThatCanCarryASecretIsMaskedInTheLog() throws Exception {
        // Regression: kafka.ssl.keystore.key (a PEM private key) was logged, only password/jaas/secret were hidden.
        Path file = temp.resolve("w.properties");
        Files.writeString(file, "kafka.ssl.keystore.key=-----BEGIN PRIVATE KEY-----MIIE\n");
        String described = WorkerConfig.resolve(file, Map.of(), Map.of(
                "kafka.ssl.key.password", "p1",
                "kafka.sasl.jaas.config", "j1",
                "kafka.sasl.oauthbearer.token.endpoint.url", "t1",
                "kafka.sasl.login.credentials", "c1",
                "kafka.security.protocol", "SASL_SSL")).describe();
        for (String secret : List.of("MIIE", "p1", "j1", "t1", "c1")) {
            assertFalse(described.contains(secret), secret + " leaked:\n" + described);
        }
        assertTrue(described.contains("kafka.security.protocol = SASL_SSL"), described);
        assertTrue(described.contains("kafka.ssl.keystore.key = " + Secrets.MASK), described);
    }

    @Test
    void oneParserForKeyValueArgumentsWithAnArgsFileAtFlagPrecedence() throws Exception {
        Path args = temp.resolve("args.properties");
        Files.writeString(args, "group.id=from-file\nkafka.sasl.jaas.config=secret\n");
        Map<String, String> parsed = KeyValueArgs.parse(List.of("--input.topic=in", "--args-file=" + args));
        assertEquals(Map.of("input.topic", "in", "group.id", "from-file", "kafka.sasl.jaas.config", "secret"), parsed);
        assertThrows(IllegalArgumentException.class, () -> KeyValueArgs.parse(List.of("--a=1", "--a=2")));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> KeyValueArgs.parse(List.of("input.topic=in")));
        assertEquals("Invalid argument 'input.topic=in': expected --key=value", bad.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> KeyValueArgs.parse(List.of("--group.id=x", "--args-file=" + args)), "given twice across file and flags");
    }
}
