package io.inferencefleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferencefleet.messages.InferenceRequest;
import io.inferencefleet.messages.InferenceResult;
import io.inferencefleet.messages.MessageCodec;
import io.inferencefleet.paddle.model.synthetic.BuiltinModels;
import io.inferencefleet.testing.KafkaBroker;
import io.inferencefleet.worker.config.WorkerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code delivery.guarantee=exactly-once} on a real broker, with the real Paddle library (tiny
 * model), real OpenCV and the shared photos: results and offsets commit together; an aborted
 * transaction is processed again and seen once; a frozen worker whose partitions moved gets nothing
 * through and exits {@link WorkerExit#FENCED}; a worker killed with SIGKILL under load leaves every
 * request answered exactly once, as an independent read_committed reader counts them per id.
 */
@Tag("slow")
class ExactlyOnceTest {
    private static KafkaBroker broker;
    private static Path model;
    private static Path images;
    private final MessageCodec codec = new MessageCodec();

    @TempDir
    Path temp;

    @BeforeAll
    static void start() throws Exception {
        broker = new KafkaBroker();
        model = Files.createTempDirectory("eos-tiny");
        BuiltinModels.generate("tiny", model, 1);
        images = WorkerKafkaTest.sharedImages();
    }

    @AfterAll
    static void stop() throws Exception {
        broker.close();
    }

    @Test
    void resultsDeadLetterCopiesAndOffsetsBecomeVisibleOnlyWithTheirCommit() throws Exception {
        broker.createTopic("vis-in", 2);
        broker.createTopic("vis-out", 1);
        List<String> ids = produce("vis-in", "v", 20, "apple.jpg");
        try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
            producer.send(new ProducerRecord<>("vis-in", "missing".getBytes(StandardCharsets.UTF_8), codec.encode(
                    InferenceRequest.of("v-missing", images.resolve("nope.jpg").toUri().toString())))).get();
        }
        ids.add("v-missing");
        Map<String, String> flags = flags("vis", "vis-a");
        flags.put("dead.letter.enabled", "true");
        flags.put("transaction.interval.ms", "6000");  // one long transaction: seen open, then committed
        flags.put("kafka.producer.transaction.timeout.ms", "20000");  // at least twice the interval (the worker checks)
        flags.put("transaction.max.results", "100000");
        try (Worker worker = Worker.start(WorkerConfig.resolve(null, Map.of(), flags))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (read("vis-out", false, 1, Duration.ofMillis(300)).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertFalse(read("vis-out", false, 1, Duration.ofMillis(300)).isEmpty(), "results written (uncommitted)");
            // Sandwiched between two looks at the group's offsets, both before the first commit:
            assertTrue(committedOffsets("vis-group", "vis-in") == 0, "nothing committed yet");
            List<ConsumerRecord<byte[], byte[]>> early = read("vis-out", true, 1, Duration.ofMillis(500));
            assertTrue(committedOffsets("vis-group", "vis-in") == 0, "still nothing committed");
            assertEquals(List.of(), early, "read_committed sees no result of the open transaction");

            Map<String, Long> perId = countPerId(awaitIds("vis-out", ids, Duration.ofSeconds(60)));
            assertEachOnce(ids, perId);
            assertEquals(1, read("vis-in.DLT", true, 1, Duration.ofSeconds(5)).size(),
                    "the dead-letter copy committed with its result");
            broker.committedVsEnd("vis-group", "vis-in").forEach((tp, offsets) ->
                    assertEquals(offsets[1], offsets[0], "offsets of " + tp + " committed with the results"));
            String metrics = http(worker.metricsPort(), "/metrics");
            assertTrue(counter(metrics, "fleet_transactions_total{outcome=\"committed\"}") >= 1, metrics);
            assertTrue(metrics.contains("fleet_transaction_seconds_count"), metrics);
        }
    }

    @Test
    void anAbortedTransactionIsProcessedAgainAndReadCommittedSeesEachResultOnce() throws Exception {
        broker.createTopic("abort-in", 2);
        broker.createTopic("abort-out", 1);
        List<String> ids = produce("abort-in", "a", 60, "apple.jpg");
        Map<String, String> flags = flags("abort", "abort-a");
        flags.put("transaction.max.results", "10");
        // The second commit fails (as a broker error would make it): the worker aborts the real transaction.
        HookedProducer.Hook failSecond = commit -> {
            if (commit == 2) {
                throw new KafkaException("injected commit failure");
            }
        };
        try (Worker worker = Worker.start(WorkerConfig.resolve(null, Map.of(), flags),
                real -> new HookedProducer(real, failSecond))) {
            Map<String, Long> perId = countPerId(awaitIds("abort-out", ids, Duration.ofSeconds(90)));
            assertEachOnce(ids, perId);
            String metrics = http(worker.metricsPort(), "/metrics");
            assertEquals(1.0, counter(metrics, "fleet_transactions_total{outcome=\"aborted\"}"), metrics);
            assertEquals(ids.size(), metrics.lines().filter(l -> l.startsWith("fleet_requests_total{"))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum(),
                    "each request counted once, at its commit (the aborted answers are not): " + metrics);
            assertTrue(worker.isRunning(), "an abort is not fatal");
        }
        List<ConsumerRecord<byte[], byte[]>> uncommitted = read("abort-out", false, Integer.MAX_VALUE, Duration.ofSeconds(3));
        Map<String, Long> uncommittedPerId = countPerId(uncommitted);
        assertTrue(uncommittedPerId.values().stream().anyMatch(n -> n > 1),
                "read_uncommitted sees the aborted transaction's results besides their second answers: " + uncommittedPerId);
        broker.committedVsEnd("abort-group", "abort-in").forEach((tp, offsets) ->
                assertEquals(offsets[1], offsets[0], "committed offset of " + tp + " is its end"));
    }

    @Test
    void aFrozenWorkerWhosePartitionsMovedGetsNoResultThroughAndExitsFenced() throws Exception {
        broker.createTopic("zombie-in", 2);
        broker.createTopic("zombie-out", 1);
        List<String> ids = produce("zombie-in", "z", 160, "astronaut.png");
        CountDownLatch frozen = new CountDownLatch(1);
        CountDownLatch thaw = new CountDownLatch(1);
        // The transaction's owner (the intake thread) freezes in its third commit, as a SIGSTOP or a
        // long GC pause would freeze it; the consumer's heartbeat thread goes on until the poll timeout.
        HookedProducer.Hook freezeThird = commit -> {
            if (commit == 3) {
                frozen.countDown();
                try {
                    thaw.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        Map<String, String> a = flags("zombie", "zombie-a");
        Map<String, String> b = flags("zombie", "zombie-b");
        List<ConsumerRecord<byte[], byte[]>> committed;
        try (Worker zombie = Worker.start(WorkerConfig.resolve(null, Map.of(), a), real -> new HookedProducer(real, freezeThird));
             Worker other = Worker.start(WorkerConfig.resolve(null, Map.of(), b))) {
            assertTrue(frozen.await(60, TimeUnit.SECONDS), "the first worker froze mid-stream");
            committed = awaitIds("zombie-out", ids, Duration.ofSeconds(120));  // the other worker took over
            thaw.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (zombie.isRunning() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertFalse(zombie.isRunning(), "the thawed zombie stops");
            assertEquals(WorkerExit.FENCED, zombie.exitCode(), "exit code of a fenced worker: " + zombie.stopReason());
            assertTrue(other.isRunning(), "the other worker goes on");
        }
        Map<String, Long> perId = countPerId(read("zombie-out", true, Integer.MAX_VALUE, Duration.ofSeconds(3)));
        assertEachOnce(ids, perId);
        long fromZombie = committed.stream().filter(r -> codec.decodeResult(r.value()).workerId().equals("zombie-a")).count();
        long fromOther = committed.stream().filter(r -> codec.decodeResult(r.value()).workerId().equals("zombie-b")).count();
        System.out.printf("zombie test: %d results committed by the zombie before it froze, %d by the other worker%n",
                fromZombie, fromOther);
        assertTrue(fromOther > 0, "the other worker answered the frozen worker's records");
    }

    @Test
    void aWorkerJvmStoppedWithSigstopWhileItsPartitionsMoveGetsNothingThroughWhenContinued() throws Exception {
        broker.createTopic("stop-in", 2);
        broker.createTopic("stop-out", 1);
        Map<String, String> a = flags("stop", "stop-a");
        a.put("transaction.interval.ms", "1000");  // most of the time a transaction is open when the signal lands
        Process zombie = WorkerProcesses.start(a, Path.of("target", "stop-a.log"));  // kept for a post-mortem
        Map<String, Long> perId;
        List<String> ids;
        Integer exit;
        try (SteadyLoad load = new SteadyLoad("stop-in", "s", 20)) {
            // The worker JVM first (it starts slower than one in this JVM), the other once it answers.
            awaitFrom("stop-out", "stop-a", 10, Duration.ofSeconds(90));
            try (Worker other = Worker.start(WorkerConfig.resolve(null, Map.of(), flags("stop", "stop-b")))) {
                awaitFrom("stop-out", "stop-b", 1, Duration.ofSeconds(60));  // the group has rebalanced
                signal("STOP", zombie.pid());
                try {
                    // Longer than session.timeout.ms (6 s) and transaction.timeout.ms (5 s): its partitions move.
                    Thread.sleep(15_000);
                    ids = load.stop();
                    awaitIds("stop-out", ids, Duration.ofSeconds(120));  // the other worker took over
                } finally {
                    signal("CONT", zombie.pid());
                }
                exit = zombie.waitFor(30, TimeUnit.SECONDS) ? zombie.exitValue() : null;
                Thread.sleep(3000);  // anything the continued zombie could still get through
                perId = countPerId(read("stop-out", true, Integer.MAX_VALUE, Duration.ofSeconds(3)));
            }
        } finally {
            zombie.destroyForcibly();
        }
        assertEachOnce(ids, perId);
        System.out.printf("sigstop test: %d requests; the continued worker %s%n", ids.size(),
                exit == null ? "kept running (it had no open transaction)" : "exited " + exit);
        assertTrue(exit == null || exit == WorkerExit.FENCED, "a fenced zombie exits " + WorkerExit.FENCED + ": " + exit);
    }

    /** Requests {@code prefix-i} of the shared photos in turn, at a steady rate, until {@link #stop()}. */
    private final class SteadyLoad implements AutoCloseable {
        private final List<String> ids = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final Thread thread;
        private volatile boolean running = true;

        SteadyLoad(String topic, String prefix, int perSecond) throws Exception {
            List<Path> photos = new ArrayList<>();
            try (var files = Files.list(images)) {
                files.filter(p -> !p.getFileName().toString().equals("truncated.jpg")).sorted().forEach(photos::add);
            }
            KafkaProducer<byte[], byte[]> producer = broker.producer();
            thread = new Thread(() -> {
                try (producer) {
                    for (int i = 0; running; i++) {
                        String id = prefix + "-" + i;
                        producer.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), codec.encode(
                                InferenceRequest.of(id, photos.get(i % photos.size()).toUri().toString())))).get();
                        ids.add(id);
                        Thread.sleep(1000 / perSecond);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "steady-load");
            thread.start();
        }

        /** Stops sending; the ids sent. */
        List<String> stop() throws InterruptedException {
            running = false;
            thread.join(10_000);
            return List.copyOf(ids);
        }

        @Override
        public void close() throws InterruptedException {
            stop();
        }
    }

    private void awaitFrom(String topic, String workerId, int atLeast, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (countFrom(topic, workerId) < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertTrue(countFrom(topic, workerId) >= atLeast, workerId + " answered at least " + atLeast);
    }

    private long countFrom(String topic, String workerId) {
        return read(topic, true, Integer.MAX_VALUE, Duration.ofMillis(700)).stream()
                .filter(r -> workerId.equals(codec.decodeResult(r.value()).workerId())).count();
    }

    private static void signal(String name, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start();
        assertEquals(0, kill.waitFor(), "kill -" + name + " " + pid);
    }

    @Test
    void aWorkerKilledUnderLoadLeavesEveryRequestAnsweredExactlyOnce() throws Exception {
        broker.createTopic("kill-in", 2);
        broker.createTopic("kill-out", 1);
        List<String> ids = produce("kill-in", "k", 300, null);
        Map<String, String> a = flags("kill", "kill-a");
        a.put("transaction.interval.ms", "1000");  // the kill most likely lands in an open transaction with results
        Map<String, String> b = flags("kill", "kill-b");
        Process killed = WorkerProcesses.start(a, Path.of("target", "kill-a.log"));  // kept for a post-mortem
        Map<String, Long> perId;
        int beforeKill;
        try (Worker survivor = Worker.start(WorkerConfig.resolve(null, Map.of(), b))) {
            try {
                beforeKill = awaitCount("kill-out", 80, Duration.ofSeconds(90));
            } finally {
                killed.destroyForcibly();  // SIGKILL: its open transaction is left to the coordinator
                killed.waitFor(10, TimeUnit.SECONDS);
            }
            assertTrue(beforeKill >= 80 && beforeKill < ids.size(), "killed under load: " + beforeKill + " answered");
            perId = countPerId(awaitIds("kill-out", ids, Duration.ofSeconds(120)));
        }
        assertEachOnce(ids, countPerId(read("kill-out", true, Integer.MAX_VALUE, Duration.ofSeconds(3))));
        int uncommitted = read("kill-out", false, Integer.MAX_VALUE, Duration.ofSeconds(3)).size();
        System.out.printf("kill test: %d committed before SIGKILL; %d results for %d requests read_committed, %d records"
                + " read_uncommitted%n", beforeKill, perId.values().stream().mapToLong(Long::longValue).sum(), ids.size(),
                uncommitted);
        broker.committedVsEnd("kill-group", "kill-in").forEach((tp, offsets) ->
                assertEquals(offsets[1], offsets[0], "committed offset of " + tp + " is its end"));
    }

    @Test
    void aRebalanceCommitsBeforeTheRevocationCompletesSoTheNewOwnerAnswersNothingTwice() throws Exception {
        broker.createTopic("join-in", 4);
        broker.createTopic("join-out", 1);
        List<String> ids = new ArrayList<>(produce("join-in", "j", 200, "astronaut.png"));  // large: the join happens mid-stream
        Map<String, Long> perId;
        // Paddle's engine, no start-up trial: with the faster engine chosen by auto, the first worker once finished
        // the backlog before the second had joined (CI), and the test proved nothing about a rebalance.
        Map<String, String> a = flags("join", "join-a");
        a.put("predictor.engine", "paddle");
        Map<String, String> b = flags("join", "join-b");
        b.put("predictor.engine", "paddle");
        try (Worker first = Worker.start(WorkerConfig.resolve(null, Map.of(), a))) {
            awaitCount("join-out", 40, Duration.ofSeconds(60));
            try (Worker second = Worker.start(WorkerConfig.resolve(null, Map.of(), b))) {
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (!second.ready() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertTrue(second.ready(), "the second worker joined the group");
                ids.addAll(produce("join-in", "k", 200, "astronaut.png"));  // partitions both workers now own
                perId = countPerId(awaitIds("join-out", ids, Duration.ofSeconds(180)));
                assertTrue(first.isRunning() && second.isRunning(), "a rebalance is not fatal");
            }
        }
        assertEachOnce(ids, perId);
        List<ConsumerRecord<byte[], byte[]>> all = read("join-out", true, Integer.MAX_VALUE, Duration.ofSeconds(3));
        assertTrue(all.stream().anyMatch(r -> codec.decodeResult(r.value()).workerId().equals("join-b")),
                "the second worker took partitions over");
    }

    @Test
    void aSlowRequestDoesNotHoldBackTheResultsAfterItAndTheNextOwnerSkipsThem() throws Exception {
        broker.createTopic("ahead-in", 1);
        broker.createTopic("ahead-out", 1);
        byte[] apple = Files.readAllBytes(images.resolve("apple.jpg"));
        CountDownLatch firstOwnerKilled = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger askedAfterKill = new java.util.concurrent.atomic.AtomicInteger();
        com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.createContext("/slow.jpg", exchange -> {
            try {
                asked.incrementAndGet();
                if (firstOwnerKilled.getCount() > 0) {
                    firstOwnerKilled.await(90, TimeUnit.SECONDS);  // the first owner never gets its answer
                } else {
                    askedAfterKill.incrementAndGet();
                }
                exchange.sendResponseHeaders(200, apple.length);
                exchange.getResponseBody().write(apple);
            } catch (InterruptedException | java.io.IOException e) {
                // the worker gave up or was killed
            } finally {
                exchange.close();
            }
        });
        server.start();
        String host = "127.0.0.1:" + server.getAddress().getPort();
        try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
            producer.send(new ProducerRecord<>("ahead-in", "slow".getBytes(StandardCharsets.UTF_8), codec.encode(
                    InferenceRequest.of("slow", "http://" + host + "/slow.jpg")))).get();
        }
        Map<String, String> a = flags("ahead", "ahead-a");
        a.put("fetch.allowed.hosts", host);
        a.put("fetch.timeout.ms", "120000");
        a.put("predictor.threads", "2");  // two lanes: the slow fetch blocks one of them (fetching is per lane)
        a.put("decoder.threads", "2");
        Map<String, String> b = flags("ahead", "ahead-b");
        b.put("fetch.allowed.hosts", host);
        Process first = WorkerProcesses.start(a, Path.of("target", "ahead-a.log"));
        List<ConsumerRecord<byte[], byte[]>> whileSlow;
        List<String> after = new ArrayList<>();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (asked.get() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(asked.get() > 0, "the first owner is fetching the slow request");
            // One at a time: each finds the other lane idle (the slow one's lane has it pending) and goes there.
            for (int i = 0; i < 20; i++) {
                after.addAll(produce("ahead-in", "q" + i, 1, "apple.jpg"));
                Thread.sleep(150);
            }
            whileSlow = awaitIds("ahead-out", after, Duration.ofSeconds(30));
        } finally {
            first.destroyForcibly();  // SIGKILL while "slow" is still being fetched
            first.waitFor(10, TimeUnit.SECONDS);
            firstOwnerKilled.countDown();
        }
        try {
            Map<String, Long> seen = countPerId(whileSlow);
            assertTrue(seen.keySet().containsAll(after), "the 20 after the slow request committed while it was fetched: " + seen);
            assertFalse(seen.containsKey("slow"), () -> "and it was not answered yet: " + whileSlow.stream()
                    .map(r -> codec.decodeResult(r.value())).filter(r -> r.id().equals("slow")).toList());
            List<String> ids = new ArrayList<>(after);
            ids.add("slow");
            try (Worker next = Worker.start(WorkerConfig.resolve(null, Map.of(), b))) {
                assertEachOnce(ids, countPerId(awaitIds("ahead-out", ids, Duration.ofSeconds(90))));
                String metrics = http(next.metricsPort(), "/metrics");
                assertEquals(20.0, counter(metrics, "fleet_records_answered_before_total"), metrics);
            }
            assertEquals(1, askedAfterKill.get(), "the next owner fetched the slow request once");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aResultTheBrokerRefusesAsTooLargeAbortsOnceThenGoesOutAsResultTooLarge() throws Exception {
        try (var admin = broker.admin()) {
            broker.createTopic("big-in", 1);
            // Smaller than the producer's max.request.size (1 MiB): only the broker can refuse the result.
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("big-out", 1, (short) 1)
                    .configs(Map.of("max.message.bytes", "6000")))).all().get();
        }
        List<String> ids = produce("big-in", "b", 10, "apple.jpg");
        try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
            producer.send(new ProducerRecord<>("big-in", "big".getBytes(StandardCharsets.UTF_8), codec.encode(
                    InferenceRequest.of("b-big", images.resolve("apple.jpg").toUri().toString())
                            .withAttributes(Map.of("note", "n".repeat(8000)))))).get();
        }
        ids.add("b-big");
        Map<String, String> flags = flags("big", "big-a");
        flags.put("transaction.interval.ms", "2000");  // the refused result shares its transaction with others
        Map<String, List<InferenceResult>> byId;
        try (Worker worker = Worker.start(WorkerConfig.resolve(null, Map.of(), flags))) {
            List<ConsumerRecord<byte[], byte[]>> records = awaitIds("big-out", ids, Duration.ofSeconds(90));
            assertEachOnce(ids, countPerId(records));
            byId = records.stream().map(r -> codec.decodeResult(r.value()))
                    .collect(Collectors.groupingBy(InferenceResult::id));
            String metrics = http(worker.metricsPort(), "/metrics");
            assertEquals(1.0, counter(metrics, "fleet_transactions_total{outcome=\"aborted\"}"), metrics);
            assertTrue(worker.isRunning(), "a refused result costs one abort, not the worker");
        }
        assertEquals("result_too_large", byId.get("b-big").get(0).error().code());
        assertTrue(ids.stream().filter(id -> !id.equals("b-big"))
                        .allMatch(id -> byId.get(id).get(0).status() == InferenceResult.Status.OK),
                "the others are answered as before: " + byId);
    }

    // ---- helpers

    private Map<String, String> flags(String prefix, String workerId) {
        Map<String, String> flags = WorkerFlags.of(broker.bootstrapServers(), prefix + "-in", prefix + "-out",
                prefix + "-group", model, images);
        flags.put("delivery.guarantee", "exactly-once");
        flags.put("worker.id", workerId);
        flags.put("max.in.flight", "16");
        flags.put("resume.in.flight", "8");
        flags.put("shm.dir", temp.resolve("shm-" + workerId).toString());
        flags.put("metrics.port", "0");
        flags.put("kafka.producer.transaction.timeout.ms", "5000");
        flags.put("kafka.consumer.session.timeout.ms", "6000");
        flags.put("kafka.consumer.heartbeat.interval.ms", "1000");
        flags.put("kafka.consumer.max.poll.interval.ms", "6000");
        return flags;
    }

    /** {@code count} requests, ids {@code prefix-i}, of {@code photo} (null: the shared photos in turn). */
    private List<String> produce(String topic, String prefix, int count, String photo) throws Exception {
        List<Path> photos = new ArrayList<>();
        try (var files = Files.list(images)) {
            files.filter(p -> !p.getFileName().toString().equals("truncated.jpg")).sorted().forEach(photos::add);
        }
        List<String> ids = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
            for (int i = 0; i < count; i++) {
                String id = prefix + "-" + i;
                Path image = photo == null ? photos.get(i % photos.size()) : images.resolve(photo);
                producer.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8),
                        codec.encode(InferenceRequest.of(id, image.toUri().toString()))));
                ids.add(id);
            }
            producer.flush();
        }
        return ids;
    }

    /** An independent reader, from the beginning of every partition, read_committed or not. */
    private List<ConsumerRecord<byte[], byte[]>> read(String topic, boolean readCommitted, int atLeast, Duration timeout) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic).forEach(info -> partitions.add(new TopicPartition(topic, info.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (records.size() < atLeast && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
            }
        }
        return records;
    }

    /** Reads read_committed until every id has a result, then a little longer (a late duplicate would show). */
    private List<ConsumerRecord<byte[], byte[]>> awaitIds(String topic, List<String> ids, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<ConsumerRecord<byte[], byte[]>> records;
        do {
            records = read(topic, true, ids.size(), Duration.ofSeconds(2));
        } while (!countPerId(records).keySet().containsAll(ids) && System.nanoTime() < deadline);
        Thread.sleep(1500);
        return read(topic, true, Integer.MAX_VALUE, Duration.ofSeconds(3));
    }

    private int awaitCount(String topic, int atLeast, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int seen = 0;
        while (seen < atLeast && System.nanoTime() < deadline) {
            seen = read(topic, true, atLeast, Duration.ofMillis(500)).size();
        }
        return seen;
    }

    private Map<String, Long> countPerId(List<ConsumerRecord<byte[], byte[]>> records) {
        return records.stream().map(r -> codec.decodeResult(r.value()).id())
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    }

    private static void assertEachOnce(List<String> ids, Map<String, Long> perId) {
        List<String> lost = ids.stream().filter(id -> !perId.containsKey(id)).toList();
        List<String> twice = perId.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList();
        assertEquals(List.of(), lost, "lost");
        assertEquals(List.of(), twice, "seen more than once by read_committed");
        assertEquals(ids.size(), perId.size(), "no result for an unknown id");
    }

    private long committedOffsets(String group, String topic) throws Exception {
        return broker.committedVsEnd(group, topic).values().stream().mapToLong(o -> Math.max(0, o[0])).sum();
    }

    private static double counter(String metrics, String series) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        return 0;
    }

    private static String http(int port, String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        return response.body();
    }

    /** Worker JVMs started as {@code fleet up} starts them (WorkerMain, jvm.options), to be killed. */
    static final class WorkerProcesses {
        private WorkerProcesses() {}

        static Process start(Map<String, String> flags, Path log) throws Exception {
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.add("@" + Path.of(System.getProperty("fleet.jvm.options")).toAbsolutePath());
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add(WorkerMain.class.getName());
            new HashMap<>(flags).forEach((k, v) -> command.add("--" + k + "=" + v));
            return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        }
    }
}
