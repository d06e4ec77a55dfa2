package io.inferencefleet.worker;

import io.inferencefleet.testing.KafkaBroker;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import io.inferencefleet.worker.config.WorkerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker process killed with SIGKILL in the middle of a stream, then a new worker on the same
 * group and the same shared-memory directory: no request is left without a result (at least once;
 * requests in flight at the kill may be answered twice).
 */
@Tag("slow")
class WorkerCrashTest {
    private static final int REQUESTS = 400;
    private static KafkaBroker broker;
    private final MessageCodec codec = new MessageCodec();

    @TempDir
    Path temp;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = new KafkaBroker();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        broker.close();
    }

    @Test
    void aKilledWorkerLosesNothing() throws Exception {
        broker.createTopic("crash-in", 2);
        broker.createTopic("crash-out", 1);
        Path model = Files.createDirectories(temp.resolve("tiny"));
        BuiltinModels.generate("tiny", model, 1);
        Path images = WorkerKafkaTest.sharedImages();
        List<Path> photos = new ArrayList<>();
        try (var files = Files.list(images)) {
            files.filter(p -> !p.getFileName().toString().equals("truncated.jpg")).sorted().forEach(photos::add);
        }
        try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
            for (int i = 0; i < REQUESTS; i++) {
                String id = "req-" + i;
                producer.send(new ProducerRecord<>("crash-in", id.getBytes(StandardCharsets.UTF_8), codec.encode(
                        InferenceRequest.of(id, photos.get(i % photos.size()).toUri().toString()))));
            }
            producer.flush();
        }
        Map<String, String> flags = WorkerFlags.of(broker.bootstrapServers(), "crash-in", "crash-out", "crash-group",
                model, images);
        flags.put("max.in.flight", "16");
        flags.put("resume.in.flight", "8");
        flags.put("shm.dir", temp.resolve("shm").toString());
        flags.put("metrics.port", "0");
        // The killed member's partitions move to the new worker after its session times out.
        flags.put("kafka.consumer.session.timeout.ms", "6000");
        flags.put("kafka.consumer.heartbeat.interval.ms", "1000");

        Process first = startWorkerProcess(flags, "crash-1");
        int answeredBeforeKill;
        try {
            answeredBeforeKill = waitForResults(30, Duration.ofSeconds(60));
        } finally {
            first.destroyForcibly();  // SIGKILL: no drain, no commit, files left in shm.dir
            first.waitFor(10, TimeUnit.SECONDS);
        }
        assertTrue(answeredBeforeKill >= 30 && answeredBeforeKill < REQUESTS,
                "killed mid-stream: " + answeredBeforeKill + " of " + REQUESTS + " answered");

        flags.put("worker.id", "crash-2");
        Set<String> answered = new HashSet<>();
        int results;
        try (Worker second = Worker.start(WorkerConfig.resolve(null, Map.of(), flags))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            List<InferenceResult> all;
            do {
                all = broker.readAll("crash-out", REQUESTS, Duration.ofSeconds(2)).stream()
                        .map(r -> codec.decodeResult(r.value())).toList();
                answered.clear();
                all.forEach(r -> answered.add(r.id()));
            } while (answered.size() < REQUESTS && System.nanoTime() < deadline);
            results = all.size();
        }
        assertEquals(REQUESTS, answered.size(), "requests answered after the restart");
        System.out.printf("crash test: %d answered before SIGKILL, %d results for %d requests after restart (%d duplicates)%n",
                answeredBeforeKill, results, REQUESTS, results - REQUESTS);
        broker.committedVsEnd("crash-group", "crash-in").forEach((tp, offsets) ->
                assertEquals(offsets[1], offsets[0], "committed offset of " + tp + " is its end"));
    }

    @Test
    void sigtermDrainsInFlightRequestsCommitsAndExitsCleanly() throws Exception {
        broker.createTopic("term-in", 2);
        broker.createTopic("term-out", 1);
        Path model = Files.createDirectories(temp.resolve("tiny"));
        BuiltinModels.generate("tiny", model, 1);
        Path images = WorkerKafkaTest.sharedImages();
        Path photo = images.resolve("apple.jpg");
        try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
            for (int i = 0; i < REQUESTS; i++) {
                String id = "t-" + i;
                producer.send(new ProducerRecord<>("term-in", id.getBytes(StandardCharsets.UTF_8),
                        codec.encode(InferenceRequest.of(id, photo.toUri().toString()))));
            }
        }
        Map<String, String> flags = WorkerFlags.of(broker.bootstrapServers(), "term-in", "term-out", "term-group",
                model, images);
        flags.put("max.in.flight", "16");
        flags.put("resume.in.flight", "8");
        flags.put("shm.dir", temp.resolve("shm").toString());
        flags.put("metrics.port", "0");
        Process worker = startWorkerProcess(flags, "term-1");
        waitForResults("term-out", 30, Duration.ofSeconds(60));
        worker.destroy();  // SIGTERM
        assertTrue(worker.waitFor(60, TimeUnit.SECONDS), "worker exits after draining");
        // 143 = 128 + SIGTERM: the JVM's status after its shutdown hooks (ours drains and commits) ran.
        assertEquals(143, worker.exitValue(), "exit after SIGTERM handling");

        Set<String> answered = new HashSet<>();
        broker.readAll("term-out", REQUESTS, Duration.ofSeconds(3)).forEach(r -> answered.add(codec.decodeResult(r.value()).id()));
        Map<org.apache.kafka.common.TopicPartition, long[]> offsets = broker.committedVsEnd("term-group", "term-in");
        long committed = offsets.values().stream().mapToLong(o -> Math.max(0, o[0])).sum();
        assertTrue(committed > 0 && committed < REQUESTS, "stopped mid-stream with a commit: " + committed);
        // Everything committed has its result (the drain waited for in-flight results before committing).
        Set<String> committedIds = new HashSet<>();
        broker.readAll("term-in", REQUESTS, Duration.ofSeconds(3)).forEach(r -> {
            long[] o = offsets.get(new org.apache.kafka.common.TopicPartition("term-in", r.partition()));
            if (r.offset() < o[0]) {
                committedIds.add(new String(r.key(), StandardCharsets.UTF_8));
            }
        });
        assertEquals(committed, committedIds.size());
        committedIds.removeAll(answered);
        assertTrue(committedIds.isEmpty(), "committed without a result: " + committedIds);
    }

    @Test
    void aRebalanceDrainsRevokedPartitionsSoNothingIsAnsweredTwice() throws Exception {
        int rebalanceRequests = 1200;
        broker.createTopic("rebal-in", 4);
        broker.createTopic("rebal-out", 1);
        Path model = Files.createDirectories(temp.resolve("tiny"));
        BuiltinModels.generate("tiny", model, 1);
        Path images = WorkerKafkaTest.sharedImages();
        Path photo = images.resolve("astronaut.png");  // large: slow enough for the join to happen mid-stream
        try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
            for (int i = 0; i < rebalanceRequests; i++) {
                String id = "b-" + i;
                producer.send(new ProducerRecord<>("rebal-in", id.getBytes(StandardCharsets.UTF_8),
                        codec.encode(InferenceRequest.of(id, photo.toUri().toString()))));
            }
        }
        Map<String, String> flags = WorkerFlags.of(broker.bootstrapServers(), "rebal-in", "rebal-out", "rebal-group",
                model, images);
        flags.put("max.in.flight", "16");
        flags.put("resume.in.flight", "8");
        flags.put("metrics.port", "-1");
        Map<String, String> first = new HashMap<>(flags);
        first.put("worker.id", "rebal-a");
        first.put("shm.dir", temp.resolve("shm-a").toString());
        Map<String, String> second = new HashMap<>(flags);
        second.put("worker.id", "rebal-b");
        second.put("shm.dir", temp.resolve("shm-b").toString());
        List<InferenceResult> all;
        try (Worker a = Worker.start(WorkerConfig.resolve(null, Map.of(), first))) {
            waitForResults("rebal-out", 40, Duration.ofSeconds(60));
            try (Worker b = Worker.start(WorkerConfig.resolve(null, Map.of(), second))) {  // joins: partitions move
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                do {
                    all = broker.readAll("rebal-out", rebalanceRequests, Duration.ofSeconds(2)).stream()
                            .map(r -> codec.decodeResult(r.value())).toList();
                } while (all.stream().map(InferenceResult::id).distinct().count() < rebalanceRequests && System.nanoTime() < deadline);
            }
        }
        Map<String, Long> perId = all.stream().collect(java.util.stream.Collectors.groupingBy(InferenceResult::id,
                java.util.stream.Collectors.counting()));
        assertEquals(rebalanceRequests, perId.size(), "every request answered across the rebalance");
        assertTrue(all.stream().anyMatch(r -> r.workerId().equals("rebal-b")), "the second worker took partitions over");
        // A backlog far beyond max.in.flight is paced by pausing, never refused ("overloaded").
        List<String> notOk = all.stream().filter(r -> r.status() != InferenceResult.Status.OK)
                .map(r -> r.id() + ":" + (r.error() == null ? r.status() : r.error().code())).distinct().limit(5).toList();
        assertTrue(notOk.isEmpty(), "all OK, got " + notOk);
        List<String> twice = perId.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList();
        assertTrue(twice.isEmpty(), "answered twice (revoked partitions not drained before commit): " + twice);
    }

    private int waitForResults(int atLeast, Duration timeout) {
        return waitForResults("crash-out", atLeast, timeout);
    }

    private int waitForResults(String topic, int atLeast, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int seen = 0;
        while (seen < atLeast && System.nanoTime() < deadline) {
            seen = broker.readAll(topic, atLeast, Duration.ofMillis(500)).size();
        }
        return broker.readAll(topic, REQUESTS, Duration.ofMillis(300)).size();
    }

    private static Process startWorkerProcess(Map<String, String> flags, String workerId) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("@" + Path.of(System.getProperty("fleet.jvm.options")).toAbsolutePath());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(WorkerMain.class.getName());
        flags.forEach((k, v) -> command.add("--" + k + "=" + v));
        command.add("--worker.id=" + workerId);
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(Files.createTempFile("worker-" + workerId, ".log").toFile()).start();
    }
}
